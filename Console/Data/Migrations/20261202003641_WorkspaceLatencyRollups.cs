using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <summary>The workspace-wide hourly latency histogram the stats windows read (see WorkspaceLatencyRollup).</summary>
    public partial class WorkspaceLatencyRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Clustered by its key like the other rollups, and filled from the detailed histogram.
            migrationBuilder.Sql("""
                CREATE TABLE "workspace_latency_rollups" (
                    "WorkspaceId" TEXT NOT NULL, "HourStart" INTEGER NOT NULL, "Bucket" INTEGER NOT NULL, "Count" INTEGER NOT NULL,
                    CONSTRAINT "PK_workspace_latency_rollups" PRIMARY KEY ("WorkspaceId", "HourStart", "Bucket")) WITHOUT ROWID;
                INSERT INTO "workspace_latency_rollups" ("WorkspaceId", "HourStart", "Bucket", "Count")
                    SELECT "WorkspaceId", "HourStart", "Bucket", SUM("Count") FROM "latency_rollups" GROUP BY 1, 2, 3;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "workspace_latency_rollups");
        }
    }
}
