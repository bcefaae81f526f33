using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations.Postgres
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
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true,
                collation: "C");

            migrationBuilder.AddColumn<long>(
                name: "PreviousSecretUntil",
                table: "webhook_endpoints",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "SecretVersion",
                table: "webhook_endpoints",
                type: "integer",
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
