using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations
{
    /// <inheritdoc />
    public partial class WebhookInboxes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "webhook_inboxes",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    WorkspaceId = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Token = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    EndpointId = table.Column<string>(type: "TEXT", nullable: true),
                    AnswerStatus = table.Column<int>(type: "INTEGER", nullable: false),
                    AnswerDelayMs = table.Column<int>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ReceivedCount = table.Column<long>(type: "INTEGER", nullable: false),
                    LastReceivedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_inboxes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_webhook_inboxes_workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "inbox_requests",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    InboxId = table.Column<string>(type: "TEXT", nullable: false),
                    WorkspaceId = table.Column<string>(type: "TEXT", nullable: false),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Path = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    HeadersJson = table.Column<string>(type: "TEXT", nullable: false),
                    Body = table.Column<string>(type: "TEXT", nullable: false),
                    BodySize = table.Column<long>(type: "INTEGER", nullable: false),
                    RemoteAddress = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Signature = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SignatureDetail = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    AnsweredStatus = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbox_requests", x => x.Id);
                    table.ForeignKey(
                        name: "FK_inbox_requests_webhook_inboxes_InboxId",
                        column: x => x.InboxId,
                        principalTable: "webhook_inboxes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_inbox_requests_InboxId_ReceivedAt",
                table: "inbox_requests",
                columns: new[] { "InboxId", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_webhook_inboxes_ExpiresAt",
                table: "webhook_inboxes",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_inboxes_Token",
                table: "webhook_inboxes",
                column: "Token",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_webhook_inboxes_WorkspaceId_CreatedAt",
                table: "webhook_inboxes",
                columns: new[] { "WorkspaceId", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "inbox_requests");

            migrationBuilder.DropTable(
                name: "webhook_inboxes");
        }
    }
}
