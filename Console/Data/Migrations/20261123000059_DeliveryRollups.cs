using DeliveryConsole.Features.Stats;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class DeliveryRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "delivery_rollups",
                columns: table => new
                {
                    WorkspaceId = table.Column<string>(type: "TEXT", nullable: false),
                    HourStart = table.Column<long>(type: "INTEGER", nullable: false),
                    EndpointId = table.Column<string>(type: "TEXT", nullable: false),
                    EventType = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Created = table.Column<long>(type: "INTEGER", nullable: false),
                    Pending = table.Column<long>(type: "INTEGER", nullable: false),
                    Delivered = table.Column<long>(type: "INTEGER", nullable: false),
                    Failed = table.Column<long>(type: "INTEGER", nullable: false),
                    Attempts = table.Column<long>(type: "INTEGER", nullable: false),
                    FailedAttempts = table.Column<long>(type: "INTEGER", nullable: false),
                    LatencySumMs = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_delivery_rollups", x => new { x.WorkspaceId, x.HourStart, x.EndpointId, x.EventType });
                });

            migrationBuilder.CreateTable(
                name: "latency_rollups",
                columns: table => new
                {
                    WorkspaceId = table.Column<string>(type: "TEXT", nullable: false),
                    HourStart = table.Column<long>(type: "INTEGER", nullable: false),
                    EndpointId = table.Column<string>(type: "TEXT", nullable: false),
                    EventType = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Bucket = table.Column<int>(type: "INTEGER", nullable: false),
                    Count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_latency_rollups", x => new { x.WorkspaceId, x.HourStart, x.EndpointId, x.EventType, x.Bucket });
                });

            migrationBuilder.CreateIndex(
                name: "IX_delivery_rollups_EndpointId_HourStart",
                table: "delivery_rollups",
                columns: new[] { "EndpointId", "HourStart" });

            migrationBuilder.Sql(RollupSql.CreateTriggers);
            // Existing rows: every hour they cover.
            migrationBuilder.Sql(RollupSql.HourlyRebuild.Replace("@from", "0").Replace("@to", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(RollupSql.DropTriggers);
            migrationBuilder.DropTable(
                name: "delivery_rollups");

            migrationBuilder.DropTable(
                name: "latency_rollups");
        }
    }
}
