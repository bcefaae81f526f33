using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class WorkspaceMembershipsAndPortalLinks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Slug",
                table: "workspaces",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RecentWorkspaces",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 400,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "StaffRole",
                table: "AspNetUsers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "portal_links",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    WorkspaceId = table.Column<string>(type: "TEXT", nullable: false),
                    TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Prefix = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Label = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    EndpointIds = table.Column<string>(type: "TEXT", nullable: false),
                    AllowResend = table.Column<bool>(type: "INTEGER", nullable: false),
                    AllowRotateSecret = table.Column<bool>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RevokedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastUsedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portal_links", x => x.Id);
                    table.ForeignKey(
                        name: "FK_portal_links_workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "workspace_members",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    WorkspaceId = table.Column<string>(type: "TEXT", nullable: false),
                    Role = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_workspace_members", x => new { x.UserId, x.WorkspaceId });
                    table.ForeignKey(
                        name: "FK_workspace_members_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_workspace_members_workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_workspaces_Slug",
                table: "workspaces",
                column: "Slug",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_webhook_endpoints_Url",
                table: "webhook_endpoints",
                column: "Url");

            migrationBuilder.CreateIndex(
                name: "IX_calls_ToNumber",
                table: "calls",
                column: "ToNumber");

            migrationBuilder.CreateIndex(
                name: "IX_callbacks_ToNumber",
                table: "callbacks",
                column: "ToNumber");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUsers_StaffRole",
                table: "AspNetUsers",
                column: "StaffRole");

            migrationBuilder.CreateIndex(
                name: "IX_portal_links_TokenHash",
                table: "portal_links",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_portal_links_WorkspaceId_CreatedAt",
                table: "portal_links",
                columns: new[] { "WorkspaceId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_workspace_members_WorkspaceId",
                table: "workspace_members",
                column: "WorkspaceId");

            // Each user's one workspace and role become their first membership.
            migrationBuilder.Sql(
                "INSERT INTO workspace_members (\"UserId\", \"WorkspaceId\", \"Role\", \"CreatedAt\") " +
                "SELECT \"Id\", \"WorkspaceId\", \"Role\", \"CreatedAt\" FROM \"AspNetUsers\"");

            // SQLite drops a plain column in place (3.35+), inside the migration's transaction; EF's
            // DropColumn would rebuild the table with foreign keys switched off, outside it.
            migrationBuilder.Sql("ALTER TABLE \"AspNetUsers\" DROP COLUMN \"Role\";");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "portal_links");

            migrationBuilder.DropIndex(
                name: "IX_workspaces_Slug",
                table: "workspaces");

            migrationBuilder.DropIndex(
                name: "IX_webhook_endpoints_Url",
                table: "webhook_endpoints");

            migrationBuilder.DropIndex(
                name: "IX_calls_ToNumber",
                table: "calls");

            migrationBuilder.DropIndex(
                name: "IX_callbacks_ToNumber",
                table: "callbacks");

            migrationBuilder.DropIndex(
                name: "IX_AspNetUsers_StaffRole",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "Slug",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "RecentWorkspaces",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "StaffRole",
                table: "AspNetUsers");

            migrationBuilder.AddColumn<int>(
                name: "Role",
                table: "AspNetUsers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.Sql(
                "UPDATE \"AspNetUsers\" SET \"Role\" = COALESCE((SELECT m.\"Role\" FROM workspace_members m " +
                "WHERE m.\"UserId\" = \"AspNetUsers\".\"Id\" AND m.\"WorkspaceId\" = \"AspNetUsers\".\"WorkspaceId\"), 0)");

            migrationBuilder.DropTable(
                name: "workspace_members");
        }
    }
}
