// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Jukebox",
    products: [
        .library(name: "JukeboxCore", targets: ["JukeboxCore"]),
        .library(name: "JukeboxTraining", targets: ["JukeboxTraining"]),
        .executable(name: "jukebox", targets: ["jukebox"]),
        .executable(name: "jukebox-studio", targets: ["jukebox-studio"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile",
                       providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa",
                       providers: [.apt(["libasound2-dev"])]),
        // ALSA reports errors through a variadic callback Swift cannot implement: a tiny C handler.
        .target(name: "CALSAShim", dependencies: ["CALSA"], linkerSettings: [.linkedLibrary("asound")]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        // Weight-streaming kernels per weight format (AVX-512 with VNNI, AVX2 or portable, chosen at run
        // time) and the thread pool they run on.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Parsers of untrusted bytes (pickle, zip, safetensors) and the one error type: built with every check on.
        // Optimised with checks on (-O, also in debug builds, so the tests' large files and corpora go fast).
        .target(name: "JukeboxFormats", swiftSettings: [.unsafeFlags(["-O"])]),
        .target(
            name: "JukeboxCore",
            dependencies: ["JukeboxFormats", "CBLAS", "CSndfile", "CKernels", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            // The bundled model set: data found at run time beside the sources (BundledModel), not compiled in.
            exclude: ["DefaultModel"],
            // Measured to pay (README, "Layout"): the engine's Swift loops around the C kernels.
            swiftSettings: [.unsafeFlags(["-Ounchecked"])]
        ),
        // Above the engine: training (backward passes, optimisers, the default model's recipe), the corpus
        // the project renders, and the measurements of the model card. The studio links none of them.
        .target(name: "JukeboxTraining", dependencies: ["JukeboxCore", "JukeboxCorpus", "CBLAS"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "JukeboxCorpus", dependencies: ["JukeboxCore", "JukeboxTOML"], swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "JukeboxEvaluation", dependencies: ["JukeboxCore", "JukeboxCorpus", "JukeboxTraining", "CBLAS"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        .executableTarget(
            name: "jukebox",
            dependencies: ["JukeboxCore", "JukeboxTraining", "JukeboxCorpus", "JukeboxEvaluation",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "jukebox-studio",
            dependencies: ["StudioKit", "StudioAudio", "JukeboxCore", "CNcurses"]
        ),
        // Audio output behind one small protocol: ALSA, a WAV file, nothing; and the playback thread.
        .target(name: "StudioAudio", dependencies: ["JukeboxCore", "CALSA", "CALSAShim"]),
        .testTarget(
            name: "StudioAudioTests",
            dependencies: ["StudioAudio", "JukeboxCore"]
        ),
        // The studio's state, update step and views: no terminal, so screens are tested as text.
        .target(name: "StudioKit", dependencies: ["JukeboxCore", "JukeboxTOML", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Checked reads of small hand-written TOML files (studio themes and presets, an import's labels.toml),
        // with the key check that keeps toml++'s aborts away from them.
        .target(name: "JukeboxTOML", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        .testTarget(
            name: "StudioKitTests",
            dependencies: ["StudioKit", "JukeboxCore", "JukeboxTestSupport"],
            exclude: ["Snapshots"]
        ),
        // Builders of torch checkpoints, a loopback HTTP server and seed mutations, shared by the test targets.
        .target(name: "JukeboxTestSupport", dependencies: ["JukeboxCore"], path: "Tests/Support"),
        .testTarget(
            name: "JukeboxCoreTests",
            dependencies: ["JukeboxFormats", "JukeboxCore", "JukeboxTraining", "JukeboxCorpus", "JukeboxEvaluation", "JukeboxTestSupport"]
        ),
        // Drives the real `jukebox` binary as a user would (arguments in, files, stdout and exit status out).
        .testTarget(
            name: "JukeboxCLITests",
            dependencies: ["jukebox", "jukebox-studio", "JukeboxCore", "JukeboxTraining", "JukeboxCorpus", "JukeboxEvaluation",
                           "StudioKit", "StudioAudio", "JukeboxTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
