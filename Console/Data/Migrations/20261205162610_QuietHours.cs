using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class QuietHours : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "QuietHoursEnd",
                table: "workspaces",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "QuietHoursStart",
                table: "workspaces",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CalleeTimeZone",
                table: "callbacks",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "QuietDeferredFrom",
                table: "callbacks",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "QuietHoursEnd",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "QuietHoursStart",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "CalleeTimeZone",
                table: "callbacks");

            migrationBuilder.DropColumn(
                name: "QuietDeferredFrom",
                table: "callbacks");
        }
    }
}
