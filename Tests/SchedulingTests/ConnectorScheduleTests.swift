import RetentionTesting
import Foundation
import RetentionCore
import Scheduling
import Testing

@Suite("ConnectorSchedule from configuration")
struct ConnectorScheduleTests {
    /// `schedule:` on line 10 of test.yaml, its keys on the lines after.
    func decode(_ yaml: TestYAML) throws(ConfigError) -> ConnectorSchedule {
        try ConnectorSchedule(
            config: yaml.node(keyPath: "connectors[0].schedule", firstLine: 10), defaultZone: Zones.newYork)
    }

    func failure(_ yaml: TestYAML) -> ConfigError? {
        do {
            _ = try decode(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test("both schedules and a zone")
    func complete() throws {
        let schedule = try decode(["full": "0 3 * * *", "incremental": "*/15 * * * *", "zone": "Asia/Seoul"])
        #expect(schedule.full == (try CronExpression("0 3 * * *")))
        #expect(schedule.incremental == (try CronExpression("*/15 * * * *")))
        #expect(schedule.zone.identifier == "Asia/Seoul")
        #expect(schedule.expression(for: .full)?.text == "0 3 * * *")
        #expect(schedule.expression(for: .incremental)?.text == "*/15 * * * *")
    }

    @Test("each schedule is optional and the zone defaults to the one given")
    func defaults() throws {
        let full = try decode(["full": "@daily"])
        #expect(full.incremental == nil)
        #expect(full.zone == Zones.newYork)
        let incremental = try decode(["incremental": "*/5 * * * *"])
        #expect(incremental.full == nil)
        #expect(incremental.expression(for: .incremental)?.text == "*/5 * * * *")
    }

    @Test("a bad cron expression names schedule.full with its line")
    func badFull() {
        let error = failure(["full": "0 25 * * *", "incremental": "*/15 * * * *"])
        #expect(error?.code == "config.cron")
        #expect(
            error?.message
                == "test.yaml:11: connectors[0].schedule.full: invalid cron expression '0 25 * * *': hour: 25 is out of range 0-23"
        )
    }

    @Test("a bad cron expression names schedule.incremental with its line")
    func badIncremental() {
        let error = failure(["zone": "UTC", "full": "0 3 * * *", "incremental": "*/15 * * *"])
        #expect(error?.code == "config.cron")
        #expect(error?.location?.line == 13)
        #expect(error?.key == "connectors[0].schedule.incremental")
        #expect(
            error?.problem.hasSuffix("expected 5 fields (minute hour day-of-month month day-of-week), found 4") == true)
    }

    @Test("an unknown key is refused with the known ones")
    func unknownKey() {
        let error = failure(["full": "0 3 * * *", "every": "5m"])
        #expect(error?.code == "config.unknown_key")
        #expect(
            error?.message == "test.yaml:12: connectors[0].schedule.every: unknown key (known: full, incremental, zone)"
        )
    }

    @Test("an unknown zone is refused")
    func unknownZone() {
        let error = failure(["full": "0 3 * * *", "zone": "Mars/Olympus"])
        #expect(error?.code == "config.zone")
        #expect(
            error?.message
                == "test.yaml:12: connectors[0].schedule.zone: unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Seoul)"
        )
    }

    @Test("a schedule with nothing to run is refused")
    func empty() {
        for yaml: TestYAML in [["zone": "UTC"], nil] {
            let error = failure(yaml)
            #expect(error?.code == "config.missing")
            #expect(
                error?.message == "test.yaml:10: connectors[0].schedule: a schedule needs full, incremental or both")
        }
    }

    @Test("wrong shapes are refused")
    func shapes() {
        let scalar = failure("0 3 * * *")
        #expect(scalar?.code == "config.type")
        #expect(scalar?.message == "test.yaml:10: connectors[0].schedule: expected a mapping")
        let nested = failure(["full": ["cron": "0 3 * * *"]])
        #expect(nested?.code == "config.type")
        #expect(nested?.message == "test.yaml:11: connectors[0].schedule.full: expected a single value")
        let missing = failure(["full": nil])
        #expect(missing?.code == "config.missing")
        #expect(missing?.message == "test.yaml:11: connectors[0].schedule.full: a value is required")
    }
}
