// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "keyturn",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "keyturn", targets: ["keyturn"]),
        .library(name: "Shamir", targets: ["Shamir"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // GF(2^8) kernels in C: SIMD byte shuffles and GFNI need intrinsics Swift does not expose.
        .target(name: "ShamirKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // The protocol every module's error adopts (code, reason, facts): the CLI alone turns
        // codes into hints and exit statuses.
        .target(name: "KeyturnFailure"),
        .target(name: "Shamir", dependencies: ["ShamirKernels", "KeyturnFailure"]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .target(name: "TLSMaterial", dependencies: ["COpenSSL", "Shamir", "KeyturnFailure"]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        // DNS for `-a dns:` and `-a srv:`: glibc's resolver, asked of a given server and port.
        .target(name: "CResolv", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("resolv")]),
        .target(name: "VaultClient", dependencies: ["CCurl", "CResolv", "Shamir", "KeyturnFailure"]),
        .systemLibrary(
            name: "CGPGME", pkgConfig: "gpgme",
            providers: [.apt(["libgpgme-dev"])]),
        .target(name: "PGPShares", dependencies: ["CGPGME", "Shamir", "KeyturnFailure"]),
        // Process hygiene in C: prctl(PR_SET_DUMPABLE) is variadic; libcurl's and OpenSSL's
        // allocators are replaced by ones that wipe on free; the memory scan tests use.
        .target(
            name: "CSystem", cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("curl")]),
        .target(name: "ProcessHygiene", dependencies: ["CSystem"]),
        // The ceremonies' engine: read and check a share, submit it to every node, collect
        // outcomes; key and share files written 0600, all or none; typed errors, no printing.
        .target(
            name: "Ceremony",
            dependencies: ["KeyturnFailure", "ProcessHygiene", "Shamir", "TLSMaterial", "VaultClient", "PGPShares"]),
        .target(
            name: "KeyturnCLI",
            dependencies: [
                "Ceremony", "KeyturnFailure", "ProcessHygiene", "Shamir", "TLSMaterial", "VaultClient", "PGPShares",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildCommit"]),
        .executableTarget(name: "keyturn", dependencies: ["KeyturnCLI"]),
        // `keyturn --version` names the commit it was built from.
        .plugin(name: "BuildCommit", capability: .buildTool()),

        // Benchmarks and the constant-time check; not part of the shipped CLI.
        .target(name: "CValgrind"),
        .executableTarget(name: "KeyturnBench", dependencies: ["Shamir", "ShamirKernels", "TLSMaterial"]),
        .executableTarget(name: "KeyturnCTCheck", dependencies: ["Shamir", "ShamirKernels", "CValgrind"]),
        // Fuzz targets: libFuzzer with -D KEYTURN_FUZZING (Scripts/fuzz), else a corpus replayer.
        .executableTarget(
            name: "KeyturnFuzz", dependencies: ["Shamir", "VaultClient", "TLSMaterial", "PGPShares", "Ceremony"]),

        .target(name: "KeyturnTestSupport", path: "Tests/KeyturnTestSupport", resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ShamirTests", dependencies: ["Shamir", "ShamirKernels", "KeyturnTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CeremonyTests",
            dependencies: [
                "Ceremony", "KeyturnFailure", "ProcessHygiene", "Shamir", "TLSMaterial", "KeyturnTestSupport",
            ]),
        .testTarget(name: "VaultClientTests", dependencies: ["VaultClient", "KeyturnTestSupport"]),
        .testTarget(name: "PGPSharesTests", dependencies: ["PGPShares", "Shamir", "KeyturnTestSupport"]),
        .testTarget(name: "TLSMaterialTests", dependencies: ["TLSMaterial", "Shamir"]),
        .testTarget(
            name: "KeyturnCLITests",
            dependencies: [
                "keyturn", "KeyturnFuzz", "KeyturnCLI", "Shamir", "VaultClient", "PGPShares", "KeyturnTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
