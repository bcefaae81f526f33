using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ResendWhileInFlight : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ResendRequestedAt",
                table: "deliveries",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ResendRequestedAt",
                table: "deliveries");
        }
    }
}
