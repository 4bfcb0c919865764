import Foundation
import JukeboxCore
import StudioKit

// jukebox-studio [--model SET] [--session DIR] [--theme NAME|PATH]: the interactive studio over StudioKit.
// Without --model: the model set of the session in DIR when there is one, else the bundled model.
// Everything that can fail on the command line fails before the terminal is touched, in one line.

func fail(_ text: String, _ status: Int32) -> Never {
    FileHandle.standardError.write(Data("jukebox-studio: \(text)\n".utf8))
    exit(status)
}

BLAS.restartOnAVX512KernelsIfGeneric()
var modelPath: String? = nil
var sessionPath: String? = nil
var themeArgument: String? = nil
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--model":
        guard let v = args.popFirst() else { fail("--model needs a model set folder", 2) }
        modelPath = v
    case "--session":
        guard let v = args.popFirst() else { fail("--session needs a folder", 2) }
        sessionPath = v
    case "--theme":
        guard let v = args.popFirst() else { fail("--theme needs a name (themes/NAME.toml) or a path", 2) }
        themeArgument = v
    case "-h", "--help":
        print("usage: jukebox-studio [--model SET] [--session DIR] [--theme NAME|PATH]  (default model: the session's, else the bundled one)")
        exit(0)
    default:
        fail("unknown argument \(a)", 2)
    }
}

let theme: Theme
do {
    theme = try StudioFiles.theme(themeArgument, themesFolder: PackageFolder.find("themes", from: PackageFolder.executablePath))
} catch {
    fail("\(error)", 2)
}

let session = sessionPath ?? Runtime.defaultSessionPath()
let existing = FileManager.default.fileExists(atPath: (session as NSString).appendingPathComponent(SessionFolder.documentName))

// Reopening a session needs no --model: the session names its model set.
var sessionSet: String? = nil
if modelPath == nil, existing {
    do { sessionSet = try SessionFolder.open(session).document.modelSet } catch { fail("cannot open session \(session): \(error)", 1) }
}
let setPath: String
if let named = sessionSet ?? modelPath {
    setPath = named
} else {
    do { setPath = try BundledModel.locate() } catch { fail("no model set named (--model SET): \(error)", 2) }
}

let set: ModelSet
do { set = try ModelSet.load(setPath) } catch {
    fail("cannot load model set \(setPath): \(error)", 1)
}

// A damaged or unreadable session fails here, in one line, before the terminal is touched.
var opened: StudioSession? = nil
if existing {
    do { opened = try StudioSession.open(session, models: set) } catch { fail("cannot open session \(session): \(error)", 1) }
}

guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { fail("needs a terminal (stdin and stdout)", 1) }

let runtime = Runtime(set: set, modelPath: setPath, sessionPath: session, opened: opened, theme: theme)
exit(runtime.run())
