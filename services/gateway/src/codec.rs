//! A tonic [`Codec`] for [`DynamicMessage`]s, the glue between the descriptors and
//! `tonic::client::Grpc`: requests are encoded as they are; responses are decoded with the
//! method's output descriptor. An outgoing stream may end in [`Outbound::Abort`], which fails
//! the request body so the call is reset instead of ending cleanly (an upload interrupted on the
//! HTTP side must not reach the evidence service as a complete, shorter document).

use bytes::Buf;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// One message of a request stream, or the reason to abort it.
#[derive(Debug)]
pub enum Outbound {
    /// The next request message.
    Message(DynamicMessage),
    /// Stop: the call is reset with this status instead of ending cleanly.
    Abort(Status),
}

/// Encodes [`Outbound`] messages and decodes responses of one output type.
#[derive(Debug, Clone)]
pub struct DynamicCodec {
    output: MessageDescriptor,
}

impl DynamicCodec {
    /// A codec whose responses are `output` messages.
    pub fn new(output: MessageDescriptor) -> Self {
        Self { output }
    }
}

impl Codec for DynamicCodec {
    type Encode = Outbound;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.output.clone())
    }
}

/// Encoder half of [`DynamicCodec`].
#[derive(Debug)]
pub struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = Outbound;
    type Error = Status;

    fn encode(&mut self, item: Outbound, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        match item {
            Outbound::Message(message) => message
                .encode(dst)
                .map_err(|error| Status::internal(format!("encoding the request: {error}"))),
            Outbound::Abort(status) => Err(status),
        }
    }
}

/// Decoder half of [`DynamicCodec`].
#[derive(Debug)]
pub struct DynamicDecoder(MessageDescriptor);

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        DynamicMessage::decode(self.0.clone(), bytes)
            .map(Some)
            .map_err(|error| Status::internal(format!("decoding the response: {error}")))
    }
}
