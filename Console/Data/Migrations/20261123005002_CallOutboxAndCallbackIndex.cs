using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class CallOutboxAndCallbackIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "EventPublishedAt",
                table: "calls",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_calls_CallbackId",
                table: "calls",
                column: "CallbackId");

            migrationBuilder.CreateIndex(
                name: "IX_calls_unpublished",
                table: "calls",
                column: "UpdatedAt",
                filter: "\"EventPublishedAt\" IS NULL AND \"CallEndTime\" IS NOT NULL");

            // Calls that ended before this column existed had their events (or never will): not the sweep's work.
            migrationBuilder.Sql("UPDATE calls SET EventPublishedAt = UpdatedAt WHERE CallEndTime IS NOT NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_calls_CallbackId",
                table: "calls");

            migrationBuilder.DropIndex(
                name: "IX_calls_unpublished",
                table: "calls");

            migrationBuilder.DropColumn(
                name: "EventPublishedAt",
                table: "calls");
        }
    }
}
