public enum LetheMain { public static func main() {} }
