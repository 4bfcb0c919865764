import JukeboxCore
import Foundation
import XCTest
@testable import StudioKit

final class ThemeTests: XCTestCase {
    /// The package's themes/ folder (the tests live two levels below the package root).
    static let themesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes").path

    func testShippedThemesGiveEveryRoleAndMonoUsesNoColour() throws {
        XCTAssertEqual(StudioFiles.tomlNames(in: Self.themesFolder), ["dark", "light", "mono"])
        for name in ["dark", "light", "mono"] {
            let theme = try StudioFiles.theme(name, themesFolder: Self.themesFolder)
            XCTAssertEqual(theme.name, name)
            XCTAssertEqual(Set(theme.styles.keys), Set(StyleRole.allCases), "\(name) styles every role")
        }
        let mono = try StudioFiles.theme("mono", themesFolder: Self.themesFolder)
        XCTAssertFalse(mono.styles.values.contains { $0.usesColor }, "mono is attributes only")
        // Roles that must stand out still do without colour.
        for role in [StyleRole.title, .cursor, .warning, .selected, .meter] {
            let s = mono.style(role)
            XCTAssertTrue(s.bold || s.reverse || s.underline, "\(role) stands out in mono")
        }
        let dark = try StudioFiles.theme(nil, themesFolder: Self.themesFolder)
        XCTAssertEqual(dark.name, "dark", "dark is the default")
        XCTAssertEqual(dark.style(.selected).background, .index(6))
        XCTAssertEqual(dark.style(.title).foreground, .index(14), "bright_cyan is palette 14")
    }

    func testAThemeByPathWithNumbersAndDefaults() throws {
        let theme = try Theme.parse("""
            [title]
            fg = 208
            bg = "default"
            underline = true
            """, file: "orange.toml")
        XCTAssertEqual(theme.name, "orange", "the name comes from the file when it has none")
        XCTAssertEqual(theme.style(.title), RoleStyle(foreground: .index(208), underline: true))
        XCTAssertEqual(theme.style(.meter), RoleStyle(), "a role the file leaves out looks like text")
        XCTAssertEqual(try StudioFiles.theme(nil, themesFolder: "/nonexistent"), Theme.fallback)
    }

    func assertThemeError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Theme.parse(text, file: "themes/bad.toml"), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testBadThemesNameTheFileAndField() {
        assertThemeError("[titel]\nbold = true\n",
                         "themes/bad.toml: titel: unknown field (known: name, description, text, title, accent, dim, cursor, error, selection, status, window_boundary, meter, lane_low, lane_mid, lane_high)")
        assertThemeError("[title]\nfg = \"cyan\"\nblink = true\n",
                         "themes/bad.toml: title.blink: unknown field (known: fg, bg, bold, dim, reverse, underline)")
        assertThemeError("[meter]\nfg = \"chartreuse\"\n",
                         "themes/bad.toml: meter.fg: unknown colour \"chartreuse\" (default, black, red, green, yellow, blue, magenta, cyan, white, bright_NAME or 0…255)")
        assertThemeError("[meter]\nbg = 300\n", "themes/bad.toml: meter.bg: colour 300 is outside 0…255")
        assertThemeError("[dim]\ndim = \"yes\"\n", "themes/bad.toml: dim.dim: expected true or false, found string")
        assertThemeError("title = 3\n", "themes/bad.toml: title: expected a table ([title]), found integer")
        XCTAssertThrowsError(try Theme.parse("[title\nfg = 1\n", file: "themes/bad.toml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("themes/bad.toml: line 1, column "), "\(error)")
        }
    }

    func testUnknownThemeNamesTheChoices() {
        XCTAssertThrowsError(try StudioFiles.theme("solarized", themesFolder: Self.themesFolder)) { error in
            XCTAssertEqual("\(error)", "--theme: solarized: unknown theme (known: dark, light, mono)")
        }
        XCTAssertThrowsError(try StudioFiles.theme("/nonexistent/x.toml", themesFolder: Self.themesFolder)) { error in
            XCTAssertEqual("\(error)", "/nonexistent/x.toml: no such file")
        }
    }

    func testThePackageFolderIsFoundAboveTheExecutable() {
        let root = URL(fileURLWithPath: Self.themesFolder).deletingLastPathComponent().path
        XCTAssertEqual(PackageFolder.find("themes", from: root + "/.build/debug/jukebox-studio"), Self.themesFolder)
        XCTAssertNil(PackageFolder.find("no-such-folder-here", from: root + "/.build/debug/jukebox-studio"))
    }
}
