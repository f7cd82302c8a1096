//! The runner's framing on stdin and stdout: a 4-byte big-endian length, then the message
//! in binary protobuf.

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The largest message the runner sends (a request carries at most a few hundred KiB of
/// test data); a larger length prefix means the stream is not what the runner writes.
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// Reads one framed message; `None` at a clean end of the input.
pub async fn read_message<M, R>(input: &mut R) -> std::io::Result<Option<M>>
where
    M: prost::Message + Default,
    R: AsyncRead + Unpin,
{
    let mut len = [0u8; 4];
    match input.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes is larger than the limit of {MAX_FRAME}"),
        ));
    }
    let mut buf = vec![0u8; len];
    input.read_exact(&mut buf).await?;
    M::decode(buf.as_slice())
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Writes one framed message and flushes it.
pub async fn write_message<M, W>(output: &mut W, message: &M) -> std::io::Result<()>
where
    M: prost::Message,
    W: AsyncWrite + Unpin,
{
    let body = message.encode_to_vec();
    let len = u32::try_from(body.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "message too large"))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    output.write_all(&frame).await?;
    output.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::ServerCompatResponse;

    #[tokio::test]
    async fn frames_round_trip_and_end_cleanly() {
        let msg = ServerCompatResponse {
            host: "127.0.0.1".into(),
            port: 4242,
            ..Default::default()
        };
        let mut buf = Vec::new();
        write_message(&mut buf, &msg).await.unwrap();
        write_message(&mut buf, &msg).await.unwrap();
        assert_eq!(&buf[..4], &(buf.len() as u32 / 2 - 4).to_be_bytes());
        let mut input = buf.as_slice();
        for _ in 0..2 {
            let got: ServerCompatResponse = read_message(&mut input).await.unwrap().unwrap();
            assert_eq!(got, msg);
        }
        assert!(
            read_message::<ServerCompatResponse, _>(&mut input)
                .await
                .unwrap()
                .is_none()
        );
        let mut huge: &[u8] = &[0xff, 0xff, 0xff, 0xff];
        assert!(
            read_message::<ServerCompatResponse, _>(&mut huge)
                .await
                .is_err()
        );
    }
}
