//! Rewrites a network's first 3D convolutions as 2D convolutions over the
//! frames, before ONNX Runtime loads it.
//!
//! ONNX Runtime's CPU provider runs a `Conv` over 5-D tensors as one large
//! im2col and a matrix product with as many rows as output channels. For the
//! demo model's fast pathway (3 → 6 channels, a 3×5×5 kernel over 32 frames
//! of 96×96) that one layer took two thirds of the network's time. As 2D
//! convolutions it runs in ONNX Runtime's blocked (NCHWc) kernels instead:
//! the whole network takes about 0.6 of the time (docs/PERFORMANCE.md).
//! tract and TensorRT get the model as shipped.
//!
//! A 3D convolution with temporal stride 1 and odd kernel depth K is, for
//! each output frame t, the sum over taps k of a 2D convolution of input
//! frame t + k − K/2 with the weights `W[:, :, k]`. So the frames become a
//! batch of images, one 2D convolution computes every tap for every frame
//! (the taps stacked as output channels, each group padded to 8 channels so
//! the blocked kernels apply), and shifted slices of its output are summed.
//! Frames outside the window are zeros, as in the 3D convolution's own
//! padding, and only the centre tap carries the bias: the same function, up
//! to the order of float additions (the ONNX Runtime tests compare it with
//! tract on the model as shipped).
//!
//! Only convolutions that read a graph input of batch 1 are rewritten, with
//! groups and dilations of 1, and only in models of opset 13 or later (where
//! `Squeeze` and `Unsqueeze` take their axes as inputs); anything else is
//! left as it is.

use prost::Message;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::pb::type_proto::Value as Type;
use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

/// The output channels of each tap are padded to a multiple of this:
/// ONNX Runtime's NCHWc block on AVX2.
const CHANNEL_BLOCK: usize = 8;

/// Names the rewritten 2D convolution after the one it replaces.
pub const SUFFIX: &str = "/frames_as_images";

/// The model in `bytes` with its first 3D convolutions rewritten, with how
/// many were; `None` when there is nothing to rewrite.
pub fn rewrite(bytes: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut model = ModelProto::decode(bytes).map_err(|e| format!("not an ONNX model: {e}"))?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(0, |o| o.version);
    let Some(graph) = model.graph.as_mut() else {
        return Ok(None);
    };
    // Weights in files beside the model stay where ONNX Runtime finds them.
    let external = graph.initializer.iter().any(|i| !i.external_data.is_empty());
    if opset < 13 || external {
        return Ok(None);
    }
    let count = rewrite_graph(graph)?;
    Ok((count > 0).then(|| (model.encode_to_vec(), count)))
}

/// One 3D convolution that can be rewritten, with what the rewrite needs.
struct Conv3d {
    out: usize,
    frames: i64,
    weight: Vec<f32>,
    /// [O, C, K, H, W]
    shape: [usize; 5],
    bias: Vec<f32>,
    /// Spatial kernel, strides and pads, for the 2D convolution.
    kernel: [i64; 2],
    strides: [i64; 2],
    pads: [i64; 4],
}

fn rewrite_graph(graph: &mut GraphProto) -> Result<usize, String> {
    let mut nodes = Vec::with_capacity(graph.node.len());
    let mut added = Vec::new();
    let mut count = 0;
    for node in std::mem::take(&mut graph.node) {
        match candidate(graph, &node)? {
            Some(conv) => {
                replace(&node, &conv, &mut nodes, &mut added);
                count += 1;
            }
            None => nodes.push(node),
        }
    }
    graph.node = nodes;
    let used: std::collections::HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .collect();
    let mut kept: Vec<TensorProto> = graph
        .initializer
        .iter()
        .filter(|i| used.contains(i.name.as_str()))
        .cloned()
        .collect();
    kept.append(&mut added);
    graph.initializer = kept;
    Ok(count)
}

fn candidate(graph: &GraphProto, node: &NodeProto) -> Result<Option<Conv3d>, String> {
    if node.op_type != "Conv" || node.input.len() < 2 {
        return Ok(None);
    }
    let Some(dims) = graph
        .input
        .iter()
        .find(|i| i.name == node.input[0])
        .and_then(input_dims)
    else {
        return Ok(None);
    };
    let [1, _, frames, _, _] = dims[..] else {
        return Ok(None);
    };
    let initializer = |name: &str| graph.initializer.iter().find(|i| i.name == name);
    let Some(weight) = initializer(&node.input[1]).filter(|w| w.data_type == DataType::Float as i32) else {
        return Ok(None);
    };
    let [out, channels, depth, height, width] = match weight.dims[..] {
        [o, c, k, h, w] if [o, c, k, h, w].iter().all(|&d| d > 0) => [o, c, k, h, w].map(|d| d as usize),
        _ => return Ok(None),
    };
    let ints = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.ints.clone());
    let ones = |name: &str| ints(name).is_none_or(|v| v.iter().all(|&d| d == 1));
    let group = node.attribute.iter().find(|a| a.name == "group").map_or(1, |a| a.i);
    let strides = ints("strides").unwrap_or_else(|| vec![1; 3]);
    let pads = ints("pads").unwrap_or_else(|| vec![0; 6]);
    let half = (depth / 2) as i64;
    let auto_pad = node.attribute.iter().any(|a| a.name == "auto_pad" && a.s != b"NOTSET");
    if group != 1
        || !ones("dilations")
        || auto_pad
        || depth % 2 == 0
        || strides.len() != 3
        || strides[0] != 1
        || pads.len() != 6
        || pads[0] != half
        || pads[3] != half
    {
        return Ok(None);
    }
    let name = &node.name;
    let weights = floats(weight).map_err(|e| format!("{name}: weight: {e}"))?;
    let bias = match node.input.get(2).filter(|b| !b.is_empty()) {
        Some(b) => {
            let tensor = initializer(b).ok_or_else(|| format!("{name}: bias {b} is not an initializer"))?;
            floats(tensor).map_err(|e| format!("{name}: bias: {e}"))?
        }
        None => vec![0.0; out],
    };
    if weights.len() != out * channels * depth * height * width || bias.len() != out {
        return Err(format!("{name}: weight or bias does not match its shape"));
    }
    Ok(Some(Conv3d {
        out,
        frames,
        weight: weights,
        shape: [out, channels, depth, height, width],
        bias,
        kernel: [height as i64, width as i64],
        strides: [strides[1], strides[2]],
        pads: [pads[1], pads[2], pads[4], pads[5]],
    }))
}

fn input_dims(input: &tract_onnx::pb::ValueInfoProto) -> Option<Vec<i64>> {
    let Some(Type::TensorType(tensor)) = input.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    tensor
        .shape
        .as_ref()?
        .dim
        .iter()
        .map(|d| match d.value {
            Some(Dim::DimValue(v)) if v > 0 => Some(v),
            _ => None,
        })
        .collect()
}

fn floats(tensor: &TensorProto) -> Result<Vec<f32>, String> {
    if tensor.data_type != DataType::Float as i32 {
        return Err(format!("data type {} is not float", tensor.data_type));
    }
    if !tensor.float_data.is_empty() {
        return Ok(tensor.float_data.clone());
    }
    if !tensor.raw_data.len().is_multiple_of(4) {
        return Err(format!("{} bytes of raw data", tensor.raw_data.len()));
    }
    Ok(tensor
        .raw_data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Each tap's weights as one group of output channels, padded to the block:
/// [K · O8, C, H, W], and the bias on the centre tap only.
fn stacked(conv: &Conv3d) -> (Vec<f32>, Vec<f32>, usize) {
    let [out, channels, depth, height, width] = conv.shape;
    let group = out.div_ceil(CHANNEL_BLOCK) * CHANNEL_BLOCK;
    let plane = height * width;
    let mut weight = vec![0.0; depth * group * channels * plane];
    for o in 0..out {
        for c in 0..channels {
            for k in 0..depth {
                let from = (((o * channels + c) * depth) + k) * plane;
                let to = ((k * group + o) * channels + c) * plane;
                weight[to..to + plane].copy_from_slice(&conv.weight[from..from + plane]);
            }
        }
    }
    let mut bias = vec![0.0; depth * group];
    let centre = depth / 2 * group;
    bias[centre..centre + out].copy_from_slice(&conv.bias);
    (weight, bias, group)
}

fn replace(node: &NodeProto, conv: &Conv3d, nodes: &mut Vec<NodeProto>, added: &mut Vec<TensorProto>) {
    let name = node.name.clone();
    let at = |what: &str| format!("{name}{SUFFIX}/{what}");
    let (weight, bias, group) = stacked(conv);
    let [_, channels, depth, height, width] = conv.shape;
    added.push(float_tensor(
        &at("weight"),
        &[(depth * group) as i64, channels as i64, height as i64, width as i64],
        weight,
    ));
    added.push(float_tensor(&at("bias"), &[(depth * group) as i64], bias));
    let mut ints = |what: &str, values: &[i64]| {
        added.push(int_tensor(&at(what), values));
        at(what)
    };
    let axis0 = ints("axis0", &[0]);
    let mut emit = |op: &str, inputs: &[&str], output: &str, attributes: Vec<AttributeProto>| {
        nodes.push(NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: if op == "Conv" {
                format!("{name}{SUFFIX}")
            } else {
                format!("{}/{op}", at(output))
            },
            attribute: attributes,
            ..Default::default()
        });
    };
    let (tchw, images, taps, summed, ntchw) = (at("TCHW"), at("images"), at("taps"), at("frames_out"), at("NTCHW"));
    // [1, C, T, H, W] → [T, C, H, W]: the frames as a batch of images.
    emit(
        "Transpose",
        &[&node.input[0]],
        &tchw,
        vec![ints_attribute("perm", &[0, 2, 1, 3, 4])],
    );
    emit("Squeeze", &[&tchw, &axis0], &images, vec![]);
    emit(
        "Conv",
        &[&images, &at("weight"), &at("bias")],
        &taps,
        vec![
            ints_attribute("kernel_shape", &conv.kernel),
            ints_attribute("strides", &conv.strides),
            ints_attribute("pads", &conv.pads),
        ],
    );
    if depth == 1 && group == conv.out {
        emit("Identity", &[&taps], &summed, vec![]);
    } else {
        let half = (depth / 2) as i64;
        let pads = ints("frame_pads", &[half, 0, 0, 0, half, 0, 0, 0]);
        let padded = at("padded_taps");
        emit("Pad", &[&taps, &pads], &padded, vec![]);
        let axes = ints("axes", &[0, 1]);
        let mut terms = Vec::with_capacity(depth);
        for k in 0..depth {
            let first = (k * group) as i64;
            let start = ints(&format!("start{k}"), &[k as i64, first]);
            let end = ints(&format!("end{k}"), &[k as i64 + conv.frames, first + conv.out as i64]);
            let term = at(&format!("tap{k}"));
            emit("Slice", &[&padded, &start, &end, &axes], &term, vec![]);
            terms.push(term);
        }
        let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
        emit("Sum", &terms, &summed, vec![]);
    }
    emit("Unsqueeze", &[&summed, &axis0], &ntchw, vec![]);
    emit(
        "Transpose",
        &[&ntchw],
        &node.output[0],
        vec![ints_attribute("perm", &[0, 2, 1, 3, 4])],
    );
}

fn float_tensor(name: &str, dims: &[i64], values: Vec<f32>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        float_data: values,
        ..Default::default()
    }
}

fn int_tensor(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![values.len() as i64],
        data_type: DataType::Int64 as i32,
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn ints_attribute(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(out: usize, channels: usize, depth: usize) -> Conv3d {
        let n = out * channels * depth * 2 * 2;
        Conv3d {
            out,
            frames: 4,
            weight: (0..n).map(|i| i as f32).collect(),
            shape: [out, channels, depth, 2, 2],
            bias: (0..out).map(|o| 100.0 + o as f32).collect(),
            kernel: [2, 2],
            strides: [1, 1],
            pads: [0; 4],
        }
    }

    #[test]
    fn each_tap_is_a_group_of_output_channels_padded_to_the_block() {
        let c = conv(6, 3, 3);
        let (weight, bias, group) = stacked(&c);
        assert_eq!(group, 8);
        assert_eq!(weight.len(), 3 * 8 * 3 * 4);
        for o in 0..6 {
            for ch in 0..3 {
                for k in 0..3 {
                    let from = ((o * 3 + ch) * 3 + k) * 4;
                    let to = ((k * 8 + o) * 3 + ch) * 4;
                    assert_eq!(weight[to..to + 4], c.weight[from..from + 4], "o {o} c {ch} k {k}");
                }
            }
        }
        // The padding channels are zeros, and only the centre tap has the bias.
        assert!(weight[(6 * 3) * 4..(8 * 3) * 4].iter().all(|&w| w == 0.0));
        assert_eq!(bias[8..14], c.bias[..]);
        assert!(bias[..8].iter().chain(&bias[14..]).all(|&b| b == 0.0));
    }

    #[test]
    fn a_model_of_an_old_opset_or_without_a_graph_is_left_alone() {
        let model = ModelProto {
            opset_import: vec![tract_onnx::pb::OperatorSetIdProto {
                domain: String::new(),
                version: 11,
            }],
            ..Default::default()
        };
        assert_eq!(rewrite(&model.encode_to_vec()), Ok(None));
        assert!(
            rewrite(b"not a model")
                .expect_err("refused")
                .contains("not an ONNX model")
        );
    }
}
