import Foundation
import JukeboxCore
import XCTest

/// `bench prior --preset`: a published architecture in a weight format, its figures beside the roofline
/// measured in the same run. Only the report's consistency is checked here; speed is never asserted.
final class BenchPriorCommandTests: XCTestCase {
    func testAPublishedArchitectureReportsItsRooflineAndMemory() throws {
        let r = try CLI.run(["bench", "prior", "--preset", "upsampler", "--format", "q4", "--tokens", "2",
                             "--context", "300", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        func number(_ key: String) throws -> Double { try XCTUnwrap(json[key] as? Double ?? (json[key] as? Int).map(Double.init), key) }
        XCTAssertEqual(json["preset"] as? String, "upsampler")
        XCTAssertEqual(json["format"] as? String, "q4")
        XCTAssertEqual(try number("context"), 300)
        // The published upsampler: 72 blocks of width 1920, 0.8 billion parameters besides its conditioner.
        XCTAssertGreaterThan(try number("parameters"), 0.8e9)
        XCTAssertLessThan(try number("parameters"), 1.2e9)
        // Its matrices at 4.5 bits a weight: under half a gigabyte a step, far under float32's 3.2.
        let weights = try number("weight_bytes_per_step")
        XCTAssertGreaterThan(weights, 0.4e9)
        XCTAssertLessThan(weights, 0.55e9)
        XCTAssertGreaterThan(try number("cache_bytes_read_per_step"), 0, "the filled cache is read")
        let bandwidth = try number("bandwidth_bytes_per_second"), tps = try number("tokens_per_second")
        let roofline = try number("roofline_tokens_per_second")
        XCTAssertGreaterThan(bandwidth, 0)
        XCTAssertEqual(roofline, bandwidth / (weights + (try number("cache_bytes_read_per_step"))), accuracy: roofline * 1e-9)
        XCTAssertEqual(try number("roofline_fraction"), tps / roofline, accuracy: 1e-9)
        XCTAssertGreaterThan(try number("resident_bytes"), weights, "the weights are resident")
        // 413k middle and bottom codes a minute at the measured rate.
        XCTAssertEqual(try number("hours_per_minute"), (44100.0 * 60 / 8 + 44100.0 * 60 / 32) / tps / 3600, accuracy: 1e-9)

        // What gave the figures: the CPU's model and which CPU's settings the kernels took.
        XCTAssertFalse((json["cpu"] as? String ?? "").isEmpty, "the CPU named")
        XCTAssertTrue(["amd", "amd-zen5", "intel"].contains(json["tuning"] as? String ?? ""), "the settings named")
        // On a CPU with AVX-512 the program never runs on OpenBLAS's generic SSE3 kernels, which a CPU newer
        // than the library gets when it loads (it starts itself again with the AVX-512 ones named).
        if json["isa"] as? String == "avx512" { XCTAssertNotEqual(json["blas_core"] as? String, "Prescott") }
        XCTAssertFalse((json["blas_core"] as? String ?? "").isEmpty, "OpenBLAS's kernels named")
        let forced = try CLI.run(["bench", "prior", "--preset", "upsampler", "--format", "q4", "--tokens", "1", "--json"],
                                 environment: ["JK_TUNING": "amd"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        let forcedJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(forced.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(forcedJSON["tuning"] as? String, "amd", "JK_TUNING forces a CPU's settings")

        assertCleanFailure(try CLI.run(["bench", "prior", "--preset", "7b"]), naming: "--preset")
        assertCleanFailure(try CLI.run(["bench", "prior", "--preset", "upsampler", "--format", "q3"]), naming: "--format")
        assertCleanFailure(try CLI.run(["bench", "prior", "--preset", "upsampler", "--context", "8192"]), naming: "--context")
    }

    /// `--batch 1,2`: one model, the batch sizes sampled in turns, one JSON line each, each beside the bandwidth
    /// read before its own blocks of steps; the probe's buffer is not counted as the model's memory. Lists that are
    /// not batch sizes, and lists without a preset, are refused by name.
    func testBatchSizesAreMeasuredInTurnsOneLineEach() throws {
        let r = try CLI.run(["bench", "prior", "--preset", "upsampler", "--format", "q4", "--tokens", "2", "--batch", "1,2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 2, r.stdout)
        let rows = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(rows.compactMap { $0["batch"] as? Int }, [1, 2])
        for row in rows {
            XCTAssertEqual(row["measured_in_turns_with_batches"] as? [Int], [1, 2])
            XCTAssertEqual(row["steps"] as? Int, 2)
            let weights = try XCTUnwrap(row["weight_bytes_per_step"] as? Int), cache = try XCTUnwrap(row["cache_bytes"] as? Int)
            let resident = try XCTUnwrap(row["resident_bytes"] as? Int), batch = try XCTUnwrap(row["batch"] as? Int)
            // The weights (0.46 GB) and this batch's own caches (0.39 GB an item) are resident, with its conditioning
            // (63 MB an item) and the process; the probe's buffer (as large as the weights) and the other batch
            // size's state are left out.
            XCTAssertGreaterThan(resident, weights + cache / 2)
            XCTAssertLessThan(resident, weights + cache + 200_000_000 * batch + 200_000_000, "batch \(batch)")
            XCTAssertGreaterThan(row["bandwidth_bytes_per_second"] as? Double ?? 0, 0)
        }
        XCTAssertLessThan(rows[0]["resident_bytes"] as? Int ?? 0, rows[1]["resident_bytes"] as? Int ?? 0, "batch 1 holds less than batch 2")
        XCTAssertEqual(rows[1]["tokens"] as? Int, 4, "batch 2 samples two tokens a step")

        assertCleanFailure(try CLI.run(["bench", "prior", "--preset", "upsampler", "--batch", "1,x"]), naming: "--batch")
        assertCleanFailure(try CLI.run(["bench", "prior", "--preset", "upsampler", "--batch", "0"]), naming: "--batch")
        assertCleanFailure(try CLI.run(["bench", "prior", "--batch", "1,3", "--tokens", "2"]), naming: "--batch")
    }

    /// `bench matvec`: one format's product alone at each batch size, beside the bandwidth; the figures
    /// hang together (bytes a second = a matrix's bytes over its time), whatever their values.
    func testOneProductIsTimedAtEachBatchBesideTheBandwidth() throws {
        let r = try CLI.run(["bench", "matvec", "--format", "q8", "--in", "100", "--out", "40", "--batches", "1,3,16",
                             "--repeats", "2", "--megabytes", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(json["batches"] as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["batch"] as? Int }, [1, 3, 16])
        // The bandwidth is read before each batch size's products; the top-level figure is their mean.
        let readings = rows.compactMap { $0["bandwidth_bytes_per_second"] as? Double }
        XCTAssertEqual(readings.count, 3)
        XCTAssertTrue(readings.allSatisfy { $0 > 0 })
        XCTAssertEqual(json["bandwidth_bytes_per_second"] as? Double ?? 0, readings.reduce(0, +) / 3, accuracy: 1)
        let bytes = Double(40 * 128 + 40 * 4 * 2)   // q8: 40 rows of 128 values (whole groups) and 4 scales each
        for row in rows {
            let us = try XCTUnwrap(row["microseconds_per_product"] as? Double), rate = try XCTUnwrap(row["bytes_per_second"] as? Double)
            XCTAssertEqual(rate, bytes / (us * 1e-6), accuracy: rate * 1e-6)
        }
        XCTAssertEqual(json["tiled"] as? Bool, WeightKernels.tilesAvailable, "q8 tiled where the CPU computes tiles")
        let table = try CLI.run(["bench", "matvec", "--format", "q4", "--in", "64", "--out", "16", "--batches", "1,2", "--repeats", "1",
                                 "--megabytes", "1", "--file-layout"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("batch  2:") && !table.stdout.contains("tiled"), table.stdout)
        assertCleanFailure(try CLI.run(["bench", "matvec", "--format", "q3"]), naming: "--format")
        assertCleanFailure(try CLI.run(["bench", "matvec", "--batches", "1,x"]), naming: "--batches")
        assertCleanFailure(try CLI.run(["bench", "matvec", "--batches", "17", "--megabytes", "1"]), naming: "bench matvec")
    }
}
