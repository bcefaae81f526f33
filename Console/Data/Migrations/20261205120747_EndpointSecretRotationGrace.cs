using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class EndpointSecretRotationGrace : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PreviousSecretProtected",
                table: "webhook_endpoints",
                type: "TEXT",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PreviousSecretUntil",
                table: "webhook_endpoints",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SecretVersion",
                table: "webhook_endpoints",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PreviousSecretProtected",
                table: "webhook_endpoints");

            migrationBuilder.DropColumn(
                name: "PreviousSecretUntil",
                table: "webhook_endpoints");

            migrationBuilder.DropColumn(
                name: "SecretVersion",
                table: "webhook_endpoints");
        }
    }
}
