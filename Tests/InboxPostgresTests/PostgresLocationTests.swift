import Foundation
@testable import InboxPostgres
import Testing

/// `--database-url` as a user writes it, and migration files cut into statements.
@Suite("PostgreSQL location and statements")
struct PostgresLocationTests {
    @Test func aURLWithItsPartsAndParameters() throws {
        let location = try PostgresLocation(url: "postgres://crm%40acme:p%2Fss@db.internal:6543/inbox?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(location.username == "crm@acme" && location.password == "p/ss" && location.host == "db.internal")
        #expect(location.port == 6543 && location.database == "inbox" && location.tlsMode == .verifyFull)
        #expect(location.rootCertificatePath == "/etc/ca.pem")
        #expect(!location.description.contains("p/ss") && !location.description.contains("p%2Fss"), "never the password")
        let plain = try PostgresLocation(url: "postgresql://inbox@localhost/inbox")
        #expect(plain.port == 5432 && plain.tlsMode == .prefer && plain.password == nil)
    }

    @Test func aPasswordFileFillsAMissingPasswordOnly() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pg-password-\(UUID().uuidString)")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try PostgresLocation(url: "postgres://inbox@h/db", passwordFile: file.path).password == "from-file")
        #expect(try PostgresLocation(url: "postgres://inbox:in-url@h/db", passwordFile: file.path).password == "in-url")
        #expect(throws: PostgresLocation.Invalid.self) { try PostgresLocation(url: "postgres://inbox@h/db", passwordFile: "/nonexistent/file") }
    }

    @Test func whatIsWrongIsNamed() {
        for (url, words) in [("mysql://a@h/db", "postgres://"), ("postgres://h/db", "no user"), ("postgres://a@h", "no database"),
                             ("postgres://a@h/db?sslmode=always", "sslmode"), ("postgres://a@h/db?application_name=x", "application_name")] {
            #expect {
                try PostgresLocation(url: url)
            } throws: { error in
                (error as? PostgresLocation.Invalid)?.description.contains(words) == true
            }
        }
    }

    @Test func statementsSplitOnlyWhereTheyEnd() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon', "odd;name" int);
            /* block; comment */
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'x;y' $body$;
            SELECT $1::text;
            INSERT INTO a VALUES ('it''s; fine');
            -- trailing comment
            """
        let statements = SQLStatements.split(sql)
        #expect(statements.count == 5, "\(statements)")
        #expect(statements[0].hasSuffix(#""odd;name" int)"#))
        #expect(statements[1].contains("RETURN NULL; END $$"))
        #expect(statements[2].hasSuffix("$body$ SELECT 'x;y' $body$"))
        #expect(statements[3] == "SELECT $1::text")
        #expect(statements[4] == "INSERT INTO a VALUES ('it''s; fine')")
    }
}
