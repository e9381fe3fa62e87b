using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MicroSecure.Dashboard.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AttackSimulation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "attack_runs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    HeartbeatAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CompletedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Gateway = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Failure = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Scenarios = table.Column<int>(type: "INTEGER", nullable: false),
                    Defended = table.Column<int>(type: "INTEGER", nullable: false),
                    PassThrough = table.Column<int>(type: "INTEGER", nullable: false),
                    BlindSpots = table.Column<int>(type: "INTEGER", nullable: false),
                    Errors = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attack_runs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "attack_results",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<long>(type: "INTEGER", nullable: false),
                    Order = table.Column<int>(type: "INTEGER", nullable: false),
                    ScenarioId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Category = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CategoryName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Title = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Sends = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    BlockedWhen = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Verdict = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Blocked = table.Column<bool>(type: "INTEGER", nullable: true),
                    Answer = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Detail = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ExpectedKind = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ExpectedReasons = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    RecordedReasons = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    EventIds = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    TraceIds = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Alerted = table.Column<bool>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attack_results", x => x.Id);
                    table.ForeignKey(
                        name: "FK_attack_results_attack_runs_RunId",
                        column: x => x.RunId,
                        principalTable: "attack_runs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_attack_results_RunId",
                table: "attack_results",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_attack_runs_one_running",
                table: "attack_runs",
                column: "Status",
                unique: true,
                filter: "\"Status\" = 'running'");

            migrationBuilder.CreateIndex(
                name: "IX_attack_runs_StartedAt",
                table: "attack_runs",
                column: "StartedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "attack_results");

            migrationBuilder.DropTable(
                name: "attack_runs");
        }
    }
}
