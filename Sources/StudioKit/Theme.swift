import Foundation
import JukeboxTOML
import TOMLKit

/// A terminal colour: the terminal's own default, or a palette index (0–7 the basic eight, 8–15 their
/// bright forms, up to 255 on 256-colour terminals).
public enum ThemeColor: Sendable, Equatable {
    case terminalDefault
    case index(Int)

    public static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// "default", a name ("cyan", "bright_cyan") or a palette number.
    static func parse(_ text: String) -> ThemeColor? {
        let t = text.lowercased()
        if t == "default" { return .terminalDefault }
        if let i = names.firstIndex(of: t) { return .index(i) }
        if t.hasPrefix("bright_"), let i = names.firstIndex(of: String(t.dropFirst("bright_".count))) { return .index(i + 8) }
        return nil
    }
}

/// How one role looks: colours (used where the terminal has them) and attributes (always used).
public struct RoleStyle: Sendable, Equatable {
    public var foreground: ThemeColor = .terminalDefault
    public var background: ThemeColor = .terminalDefault
    public var bold = false
    public var dim = false
    public var reverse = false
    public var underline = false

    public init(foreground: ThemeColor = .terminalDefault, background: ThemeColor = .terminalDefault,
                bold: Bool = false, dim: Bool = false, reverse: Bool = false, underline: Bool = false) {
        (self.foreground, self.background) = (foreground, background)
        (self.bold, self.dim, self.reverse, self.underline) = (bold, dim, reverse, underline)
    }

    public var usesColor: Bool { foreground != .terminalDefault || background != .terminalDefault }
}

/// UI roles → styles, read from themes/NAME.toml. The runtime turns each role into a curses colour pair
/// plus attributes; views only ever name roles.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var styles: [StyleRole: RoleStyle]

    public init(name: String, styles: [StyleRole: RoleStyle]) {
        self.name = name
        self.styles = styles
    }

    public func style(_ role: StyleRole) -> RoleStyle { styles[role] ?? styles[.normal] ?? RoleStyle() }

    /// The file's table name of each role.
    public static let roleNames: [(String, StyleRole)] = [
        ("text", .normal), ("title", .title), ("accent", .accent), ("dim", .dim), ("cursor", .cursor),
        ("error", .warning), ("selection", .selected), ("status", .status), ("window_boundary", .boundary),
        ("meter", .meter), ("lane_low", .laneLow), ("lane_mid", .laneMid), ("lane_high", .laneHigh),
    ]

    /// Used when no theme file is found: attributes only, so it works on any terminal.
    public static let fallback = Theme(name: "built-in", styles: [
        .title: RoleStyle(bold: true), .accent: RoleStyle(bold: true), .dim: RoleStyle(dim: true),
        .cursor: RoleStyle(reverse: true), .warning: RoleStyle(bold: true, underline: true),
        .selected: RoleStyle(reverse: true), .boundary: RoleStyle(dim: true), .meter: RoleStyle(bold: true),
    ])

    /// Parses a theme file's text. `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> Theme {
        try read(TOMLFields.parse(text, file: file), file: file)
    }

    /// Reads themes/NAME.toml or a path.
    public static func load(_ path: String) throws -> Theme {
        try read(TOMLFields.read(path), file: path)
    }

    private static func read(_ doc: TOMLFields, file: String) throws -> Theme {
        try doc.rejectUnknown(["name", "description"] + roleNames.map(\.0))
        let name = try doc.string("name") ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        _ = try doc.string("description")
        var styles: [StyleRole: RoleStyle] = [:]
        for (key, role) in roleNames {
            guard let t = try doc.table(key) else { continue }
            try t.rejectUnknown(["fg", "bg", "bold", "dim", "reverse", "underline"])
            var s = RoleStyle()
            s.foreground = try color(t, "fg")
            s.background = try color(t, "bg")
            s.bold = try t.bool("bold") ?? false
            s.dim = try t.bool("dim") ?? false
            s.reverse = try t.bool("reverse") ?? false
            s.underline = try t.bool("underline") ?? false
            styles[role] = s
        }
        return Theme(name: name, styles: styles)
    }

    private static func color(_ t: TOMLFields, _ key: String) throws -> ThemeColor {
        guard let v = t.table[key] else { return .terminalDefault }
        if let i = v.int {
            guard (0...255).contains(i) else { throw t.error(key, "colour \(i) is outside 0…255") }
            return .index(i)
        }
        guard let s = v.string else { throw t.error(key, "expected a colour name or 0…255, found \(v.type)") }
        guard let c = ThemeColor.parse(s) else {
            throw t.error(key, "unknown colour \"\(s)\" (default, \(ThemeColor.names.joined(separator: ", ")), bright_NAME or 0…255)")
        }
        return c
    }
}
