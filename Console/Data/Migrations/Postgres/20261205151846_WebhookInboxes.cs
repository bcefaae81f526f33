using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DeliveryConsole.Data.Migrations.Postgres
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
                    Id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    WorkspaceId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    Token = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    EndpointId = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    AnswerStatus = table.Column<int>(type: "integer", nullable: false),
                    AnswerDelayMs = table.Column<int>(type: "integer", nullable: false),
                    ExpiresAt = table.Column<long>(type: "bigint", nullable: false),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false),
                    ReceivedCount = table.Column<long>(type: "bigint", nullable: false),
                    LastReceivedAt = table.Column<long>(type: "bigint", nullable: true)
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
                    Id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    InboxId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    WorkspaceId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    ReceivedAt = table.Column<long>(type: "bigint", nullable: false),
                    Method = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    Path = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false, collation: "C"),
                    HeadersJson = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    Body = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    BodySize = table.Column<long>(type: "bigint", nullable: false),
                    RemoteAddress = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    Signature = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    SignatureDetail = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true, collation: "C"),
                    AnsweredStatus = table.Column<int>(type: "integer", nullable: false)
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
