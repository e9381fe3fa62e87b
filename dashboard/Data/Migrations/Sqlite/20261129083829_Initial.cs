using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MicroSecure.Dashboard.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "security_event_rollups",
                columns: table => new
                {
                    minute = table.Column<DateTime>(type: "TEXT", nullable: false),
                    service = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    policy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_security_event_rollups", x => new { x.minute, x.service, x.kind, x.reason, x.policy });
                });

            migrationBuilder.CreateTable(
                name: "security_events",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    timestamp = table.Column<DateTime>(type: "TEXT", nullable: false),
                    received = table.Column<DateTime>(type: "TEXT", nullable: false),
                    source = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    service = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    severity = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    client_ip = table.Column<string>(type: "TEXT", maxLength: 45, nullable: true),
                    subject = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    route = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    trace_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    policy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_security_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "service_status",
                columns: table => new
                {
                    source = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    service = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    last_seen = table.Column<DateTime>(type: "TEXT", nullable: false),
                    last_event = table.Column<DateTime>(type: "TEXT", nullable: true),
                    dropped = table.Column<long>(type: "INTEGER", nullable: false),
                    stored = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_service_status", x => x.source);
                });

            migrationBuilder.CreateIndex(
                name: "IX_security_events_received",
                table: "security_events",
                column: "received");

            migrationBuilder.CreateIndex(
                name: "IX_security_events_timestamp_kind",
                table: "security_events",
                columns: new[] { "timestamp", "kind" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "security_event_rollups");

            migrationBuilder.DropTable(
                name: "security_events");

            migrationBuilder.DropTable(
                name: "service_status");
        }
    }
}
