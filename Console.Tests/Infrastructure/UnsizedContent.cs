namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A body streamed without a Content-Length (chunked): the server finds its size only by reading it.</summary>
public static class UnsizedContent
{
    public static HttpContent Of(HttpContent content) => new StreamContent(new NonSeekable(content.ReadAsStream()))
    {
        Headers = { ContentType = content.Headers.ContentType },
    };

    /// <summary>A stream whose length cannot be known, so HttpClient sends it chunked.</summary>
    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
