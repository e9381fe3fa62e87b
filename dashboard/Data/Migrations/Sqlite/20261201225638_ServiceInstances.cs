using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MicroSecure.Dashboard.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ServiceInstances : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_service_status",
                table: "service_status");

            migrationBuilder.AddColumn<string>(
                name: "instance",
                table: "service_status",
                type: "TEXT",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddPrimaryKey(
                name: "PK_service_status",
                table: "service_status",
                columns: new[] { "source", "instance" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_service_status",
                table: "service_status");

            migrationBuilder.DropColumn(
                name: "instance",
                table: "service_status");

            migrationBuilder.AddPrimaryKey(
                name: "PK_service_status",
                table: "service_status",
                column: "source");
        }
    }
}
