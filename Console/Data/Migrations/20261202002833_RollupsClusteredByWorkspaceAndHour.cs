using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <summary>
    /// The rollup tables become WITHOUT ROWID tables: their primary key (workspace, hour, endpoint,
    /// event type[, bucket]) is then the table's own order, so a window of one workspace is one
    /// contiguous range read in order, not a walk of the key index with a lookup per row.
    /// </summary>
    public partial class RollupsClusteredByWorkspaceAndHour : Migration
    {
        private static string Rebuild(bool clustered) => $"""
            CREATE TABLE "delivery_rollups_new" (
                "WorkspaceId" TEXT NOT NULL, "HourStart" INTEGER NOT NULL, "EndpointId" TEXT NOT NULL, "EventType" TEXT NOT NULL,
                "Created" INTEGER NOT NULL, "Pending" INTEGER NOT NULL, "Delivered" INTEGER NOT NULL, "Failed" INTEGER NOT NULL,
                "Attempts" INTEGER NOT NULL, "FailedAttempts" INTEGER NOT NULL, "LatencySumMs" INTEGER NOT NULL,
                CONSTRAINT "PK_delivery_rollups" PRIMARY KEY ("WorkspaceId", "HourStart", "EndpointId", "EventType")){(clustered ? " WITHOUT ROWID" : "")};
            INSERT INTO "delivery_rollups_new" ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Created", "Pending", "Delivered", "Failed", "Attempts", "FailedAttempts", "LatencySumMs")
                SELECT "WorkspaceId", "HourStart", "EndpointId", "EventType", "Created", "Pending", "Delivered", "Failed", "Attempts", "FailedAttempts", "LatencySumMs" FROM "delivery_rollups";
            DROP TABLE "delivery_rollups";
            ALTER TABLE "delivery_rollups_new" RENAME TO "delivery_rollups";
            CREATE INDEX "IX_delivery_rollups_EndpointId_HourStart" ON "delivery_rollups" ("EndpointId", "HourStart");
            CREATE TABLE "latency_rollups_new" (
                "WorkspaceId" TEXT NOT NULL, "HourStart" INTEGER NOT NULL, "EndpointId" TEXT NOT NULL, "EventType" TEXT NOT NULL,
                "Bucket" INTEGER NOT NULL, "Count" INTEGER NOT NULL,
                CONSTRAINT "PK_latency_rollups" PRIMARY KEY ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket")){(clustered ? " WITHOUT ROWID" : "")};
            INSERT INTO "latency_rollups_new" ("WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket", "Count")
                SELECT "WorkspaceId", "HourStart", "EndpointId", "EventType", "Bucket", "Count" FROM "latency_rollups";
            DROP TABLE "latency_rollups";
            ALTER TABLE "latency_rollups_new" RENAME TO "latency_rollups";
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(Rebuild(clustered: true));

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.Sql(Rebuild(clustered: false));
    }
}
