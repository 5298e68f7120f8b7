import LetheCLI
LetheMain.main()
