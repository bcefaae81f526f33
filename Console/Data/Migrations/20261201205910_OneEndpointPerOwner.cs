using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class OneEndpointPerOwner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Racing first-time saves could leave several live master webhooks of a workspace (or
            // finishedUrl endpoints of an application): keep the oldest, retire the others as
            // deleted (their history stays), and point each application at the one it keeps.
            migrationBuilder.Sql("""
                UPDATE webhook_endpoints SET "DeletedAt" = "UpdatedAt"
                WHERE "DeletedAt" IS NULL AND "Scope" = 0 AND EXISTS (
                    SELECT 1 FROM webhook_endpoints k
                    WHERE k."WorkspaceId" = webhook_endpoints."WorkspaceId" AND k."Scope" = 0 AND k."DeletedAt" IS NULL
                      AND (k."CreatedAt" < webhook_endpoints."CreatedAt" OR (k."CreatedAt" = webhook_endpoints."CreatedAt" AND k."Id" < webhook_endpoints."Id")));
                UPDATE webhook_endpoints SET "DeletedAt" = "UpdatedAt"
                WHERE "DeletedAt" IS NULL AND "Scope" = 1 AND EXISTS (
                    SELECT 1 FROM webhook_endpoints k
                    WHERE k."ApplicationId" = webhook_endpoints."ApplicationId" AND k."Scope" = 1 AND k."DeletedAt" IS NULL
                      AND (k."CreatedAt" < webhook_endpoints."CreatedAt" OR (k."CreatedAt" = webhook_endpoints."CreatedAt" AND k."Id" < webhook_endpoints."Id")));
                UPDATE applications SET "EndpointId" = (
                    SELECT e."Id" FROM webhook_endpoints e WHERE e."ApplicationId" = applications."Id" AND e."Scope" = 1 AND e."DeletedAt" IS NULL)
                WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e."ApplicationId" = applications."Id" AND e."Scope" = 1 AND e."DeletedAt" IS NULL);
                """);

            migrationBuilder.CreateIndex(
                name: "UX_webhook_endpoints_application",
                table: "webhook_endpoints",
                column: "ApplicationId",
                unique: true,
                filter: "\"Scope\" = 1 AND \"DeletedAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "UX_webhook_endpoints_master",
                table: "webhook_endpoints",
                column: "WorkspaceId",
                unique: true,
                filter: "\"Scope\" = 0 AND \"DeletedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "UX_webhook_endpoints_application",
                table: "webhook_endpoints");

            migrationBuilder.DropIndex(
                name: "UX_webhook_endpoints_master",
                table: "webhook_endpoints");
        }
    }
}
