import Cluster
import XCTest

final class LaunchEnvironmentTests: XCTestCase {
    func testSlurmNodeListExpansion() throws {
        XCTAssertEqual(try LaunchEnvironment.expandNodeList("node[01-03,07],gpu5"), ["node01", "node02", "node03", "node07", "gpu5"])
        XCTAssertEqual(try LaunchEnvironment.expandNodeList("a1"), ["a1"])
        XCTAssertEqual(try LaunchEnvironment.expandNodeList("c[8-10]-ib"), ["c8-ib", "c9-ib", "c10-ib"])
        XCTAssertEqual(try LaunchEnvironment.expandNodeList("x[1],y[2-3]"), ["x1", "y2", "y3"])
        XCTAssertThrowsError(try LaunchEnvironment.expandNodeList("node[1-3"))
        XCTAssertThrowsError(try LaunchEnvironment.expandNodeList("node[3-1]"))
    }

    func testSlurmVariables() throws {
        let e = try LaunchEnvironment(["SLURM_PROCID": "3", "SLURM_NTASKS": "8", "SLURM_JOB_NODELIST": "cn[004-005]",
                                       "SLURM_JOB_ID": "4711"])
        XCTAssertEqual(e.coordinator, "cn004:29500")
        XCTAssertEqual(e.rank, 3)
        XCTAssertEqual(e.worldSize, 8)
        XCTAssertEqual(e.jobID, "4711")
        let p = try LaunchEnvironment(["SLURM_NODELIST": "h1,h2", "RINGTRAIN_COORDINATOR_PORT": "31000"])
        XCTAssertEqual(p.coordinator, "h1:31000")
    }

    func testTorchrunVariablesWin() throws {
        let e = try LaunchEnvironment(["MASTER_ADDR": "10.1.2.3", "MASTER_PORT": "23456", "RANK": "1", "WORLD_SIZE": "4",
                                       "SLURM_JOB_NODELIST": "cn1", "SLURM_PROCID": "0", "SLURM_NTASKS": "2"])
        XCTAssertEqual(e.coordinator, "10.1.2.3:23456")
        XCTAssertEqual(e.rank, 1)
        XCTAssertEqual(e.worldSize, 4)
        XCTAssertEqual(try LaunchEnvironment([:]).coordinator, nil)
    }

    func testBadValuesNameTheVariable() {
        XCTAssertThrowsError(try LaunchEnvironment(["MASTER_ADDR": "h", "MASTER_PORT": "70000"])) {
            XCTAssertTrue("\($0)".contains("MASTER_PORT"))
        }
        XCTAssertThrowsError(try LaunchEnvironment(["WORLD_SIZE": "four"])) { XCTAssertTrue("\($0)".contains("WORLD_SIZE")) }
    }
}
