import Foundation
import ProcessHygiene

#if DEBUG
    /// The test build's memory scan, driven by environment variables the tests set.
    enum DebugMemoryScan {
        /// Test builds only: when KEYTURN_DEBUG_SCAN_STAGE (a comma-separated list) names
        /// `stage`, scans this process's memory for the secrets given (masked with
        /// KEYTURN_DEBUG_SCAN_MASK) in KEYTURN_DEBUG_SCAN_NEEDLES and reports every run of 12 or
        /// more of their bytes on stderr. The tests use it to show that a share is gone from
        /// memory after use (stage "after") and that the scan finds it while it is held (stage
        /// "held"). Release builds do not contain it.
        static func run(stage: String) {
            let env = ProcessInfo.processInfo.environment
            guard env["KEYTURN_DEBUG_SCAN_STAGE"]?.split(separator: ",").contains(Substring(stage)) == true,
                let maskText = env["KEYTURN_DEBUG_SCAN_MASK"], let mask = UInt8(maskText, radix: 16),
                let needles = env["KEYTURN_DEBUG_SCAN_NEEDLES"]
            else { return }
            Terminal.stderrLine("keyturn-debug: wiping allocators: \(ProcessHygiene.libraryWipingStatus)")
            for (index, hex) in needles.split(separator: ",").enumerated() {
                guard let (runs, hits) = ProcessHygiene.scan(masked: maskedBytes(hex), mask: mask) else {
                    Terminal.stderrLine("keyturn-debug: scan \(stage) needle \(index): cannot read /proc/self/mem")
                    continue
                }
                Terminal.stderrLine("keyturn-debug: scan \(stage) needle \(index): \(runs) runs")
                for hit in hits {
                    Terminal.stderrLine(
                        "keyturn-debug:   \(hit.length) bytes at 0x\(String(hit.address, radix: 16)) in \(hit.region)")
                }
            }
        }

        private static func maskedBytes(_ hex: Substring) -> [UInt8] {
            var out: [UInt8] = []
            var i = hex.startIndex
            while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex),
                let b = UInt8(hex[i..<j], radix: 16)
            {
                out.append(b)
                i = j
            }
            return out
        }
    }
#endif
