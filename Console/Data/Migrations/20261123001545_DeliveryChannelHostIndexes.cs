using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class DeliveryChannelHostIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_deliveries_TargetHost_CreatedAt",
                table: "deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_TargetHost_WorkspaceId_CreatedAt",
                table: "deliveries",
                columns: new[] { "TargetHost", "WorkspaceId", "CreatedAt" },
                descending: new[] { false, false, true });

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_WorkspaceId_Channel_CreatedAt",
                table: "deliveries",
                columns: new[] { "WorkspaceId", "Channel", "CreatedAt" },
                descending: new[] { false, false, true });

            migrationBuilder.Sql(PlannerStatistics.Sql());
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DELETE FROM sqlite_stat1 WHERE tbl = 'deliveries';");
            migrationBuilder.DropIndex(
                name: "IX_deliveries_TargetHost_WorkspaceId_CreatedAt",
                table: "deliveries");

            migrationBuilder.DropIndex(
                name: "IX_deliveries_WorkspaceId_Channel_CreatedAt",
                table: "deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_TargetHost_CreatedAt",
                table: "deliveries",
                columns: new[] { "TargetHost", "CreatedAt" },
                descending: new[] { false, true });
        }
    }
}
