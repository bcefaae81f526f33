using DeliveryConsole.Features.Stats;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class RollupsByTheLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_deliveries_due",
                table: "deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_due",
                table: "deliveries",
                columns: new[] { "NextAttemptAt", "EndpointId" },
                filter: "\"Status\" = 0");

            // The ledger keeps the rollups now, aggregated per batch, in the same transaction.
            migrationBuilder.Sql(RollupSql.DropTriggers);
            // A claim's due time is its lease's end (a visibility timeout): rows leased now keep their lease.
            migrationBuilder.Sql("""UPDATE deliveries SET "NextAttemptAt" = "LeaseUntil" WHERE "Status" = 0 AND "LeaseUntil" IS NOT NULL AND ("NextAttemptAt" IS NULL OR "NextAttemptAt" < "LeaseUntil");""");
            migrationBuilder.Sql(PlannerStatistics.Sql());
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_deliveries_due",
                table: "deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_due",
                table: "deliveries",
                column: "NextAttemptAt",
                filter: "\"Status\" = 0");

            migrationBuilder.Sql(RollupSql.CreateTriggers);
        }
    }
}
