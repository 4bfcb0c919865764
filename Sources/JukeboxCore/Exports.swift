// Whoever imports the engine sees the file formats and the error type it reports through.
@_exported import JukeboxFormats
