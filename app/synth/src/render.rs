//! The renderer: a top-down workbench with eight supply zones, the part in the
//! middle, and the operator's arm doing each step as its own motion.
//!
//! Every shape is drawn inside its bounding box only, and the static bench is
//! drawn once per clip, so a 1080p frame costs one copy, a few small shapes
//! and one pass of light and noise.

use std::collections::BTreeMap;

use crate::plan::{IDLE, Plan, Segment};
use crate::rng::Rng;
use crate::variation::Variation;

type Rgb = [u8; 3];

/// Things that sit in zones, travel in the hand and stack up on the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Base,
    Spacer,
    GreasedDisk,
    Separator,
    Washer,
    Lid,
}

impl Item {
    fn colour(self) -> Rgb {
        match self {
            Item::Base => [150, 150, 158],
            Item::Spacer => [215, 215, 205],
            Item::GreasedDisk => [70, 50, 30],
            Item::Separator => [230, 130, 30],
            Item::Washer => [190, 200, 215],
            Item::Lid => [40, 90, 190],
        }
    }

    /// Radius as a share of the zone size, and whether it has a hole.
    fn shape(self) -> (f64, bool) {
        match self {
            Item::Base => (0.42, false),
            Item::Spacer => (0.30, true),
            Item::GreasedDisk => (0.34, false),
            Item::Separator => (0.33, true),
            Item::Washer => (0.22, true),
            Item::Lid => (0.40, false),
        }
    }
}

/// The zone a step picks from, and what it picks.
fn picks(label: &str) -> &'static [(&'static str, Item)] {
    match label {
        "riveted_start" => &[("riveted_start", Item::Base)],
        "spacer" => &[("spacer", Item::Spacer)],
        "greased_disk" => &[("greased_disk", Item::GreasedDisk)],
        "separator" => &[("separator", Item::Separator)],
        "spacer_washer" => &[("spacer", Item::Spacer), ("washer", Item::Washer)],
        "install_lid" => &[("lid", Item::Lid)],
        _ => &[],
    }
}

fn zone_colour(zone: &str) -> Rgb {
    match zone {
        "riveted_start" => [95, 95, 105],
        "spacer" => [80, 110, 90],
        "greased_disk" => [110, 85, 60],
        "separator" => [90, 80, 120],
        "washer" => [70, 100, 120],
        "lid" => [60, 70, 100],
        "press" => [60, 60, 60],
        _ => [100, 120, 100],
    }
}

fn zone_item(zone: &str) -> Option<Item> {
    match zone {
        "riveted_start" => Some(Item::Base),
        "spacer" => Some(Item::Spacer),
        "greased_disk" => Some(Item::GreasedDisk),
        "separator" => Some(Item::Separator),
        "washer" => Some(Item::Washer),
        "lid" => Some(Item::Lid),
        _ => None,
    }
}

/// One clip's fixed look: the bench, zones, lighting, hand, noise.
pub struct Scene {
    pub width: usize,
    pub height: usize,
    /// The lit bench with its zones, larger than the frame by `margin` on each side.
    bench: Vec<u8>,
    margin: usize,
    zones: BTreeMap<String, (f64, f64)>,
    part: (f64, f64),
    shoulder: (f64, f64),
    zone_size: f64,
    hand_colour: Rgb,
    sleeve_colour: Rgb,
    hand_radius: f64,
    distractor_colour: Rgb,
    /// Light gain per column, 8.8 fixed point.
    column_gain: Vec<u16>,
    noise: Vec<i8>,
    flicker: f64,
    drift: f64,
    rng: Rng,
}

/// What moves in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Pose {
    pub hand: (f64, f64),
    pub carrying: Option<Item>,
    /// Items on the part, bottom first.
    pub part_items: Vec<Item>,
    /// Where the part is (it travels during `complete_part`).
    pub part_at: Option<(f64, f64)>,
    /// Press head travel, 0 (up) to 1 (down).
    pub press: f64,
    pub distractor: Option<(f64, f64)>,
}

const NOISE_LEN: usize = 1 << 20;

impl Scene {
    pub fn new(variation: &Variation, width: usize, height: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed).fork(2);
        let h = height as f64;
        let w = width as f64;
        let layout = &variation.layout;
        let shift = (
            rng.range([-1.0, 1.0]) * variation.camera.shift * h,
            rng.range([-1.0, 1.0]) * variation.camera.shift * h,
        );
        let at = |[x, y]: [f64; 2], rng: &mut Rng| {
            let jitter = layout.jitter * h;
            (
                x * w + shift.0 + rng.range([-jitter, jitter]),
                y * h + shift.1 + rng.range([-jitter, jitter]),
            )
        };
        let zones: BTreeMap<String, (f64, f64)> = layout
            .zones
            .iter()
            .map(|(k, v)| (k.clone(), at(*v, &mut rng)))
            .collect();
        let part = at(layout.part, &mut rng);
        let rest = at(layout.rest, &mut rng);
        let pick = |lo: Rgb, hi: Rgb, rng: &mut Rng| -> Rgb {
            let t = rng.unit();
            std::array::from_fn(|i| (f64::from(lo[i]) + (f64::from(hi[i]) - f64::from(lo[i])) * t) as u8)
        };
        let bench_colour = pick(layout.bench_min, layout.bench_max, &mut rng);
        let hand_colour = pick(variation.hand.colour_min, variation.hand.colour_max, &mut rng);
        let sleeve_colour = pick(variation.hand.sleeve_min, variation.hand.sleeve_max, &mut rng);
        let hand_radius = rng.range(variation.hand.size) * h;
        let brightness = rng.range(variation.lighting.brightness);
        let gradient = rng.range(variation.lighting.gradient);
        let column_gain = (0..width)
            .map(|x| {
                let g = brightness * (1.0 - gradient * x as f64 / w);
                (g * 256.0).clamp(0.0, 65535.0) as u16
            })
            .collect();
        let amplitude = rng.range(variation.noise.amplitude);
        let mut noise_rng = rng.fork(3);
        let noise = (0..NOISE_LEN)
            .map(|_| {
                ((noise_rng.unit() + noise_rng.unit() - 1.0) * amplitude)
                    .round()
                    .clamp(-127.0, 127.0) as i8
            })
            .collect();

        let drift = variation.camera.drift * h;
        let margin = drift.ceil() as usize + 2;
        let mut scene = Scene {
            width,
            height,
            bench: Vec::new(),
            margin,
            zones,
            part,
            shoulder: (rest.0, rest.1 + 0.25 * h),
            zone_size: layout.zone_size * h,
            hand_colour,
            sleeve_colour,
            hand_radius,
            distractor_colour: variation.distractor.colour,
            column_gain,
            noise,
            flicker: variation.lighting.flicker,
            drift,
            rng,
        };
        scene.bench = scene.draw_bench(bench_colour);
        scene
    }

    /// The bench and its zones, drawn once per clip.
    fn draw_bench(&mut self, colour: Rgb) -> Vec<u8> {
        let (bw, bh) = (self.width + 2 * self.margin, self.height + 2 * self.margin);
        let mut pixels = vec![0; bw * bh * 3];
        let mut canvas = Canvas {
            pixels: &mut pixels,
            width: bw,
            height: bh,
            offset: (self.margin as f64, self.margin as f64),
        };
        // Wood-like stripes, so the bench is not a flat colour.
        for (y, row) in canvas.pixels.chunks_exact_mut(bw * 3).enumerate() {
            let stripe = ((y as f64 * 0.05).sin() * 6.0) as i16;
            let shade: Rgb = std::array::from_fn(|c| (i16::from(colour[c]) + stripe).clamp(0, 255) as u8);
            for pixel in row.chunks_exact_mut(3) {
                pixel.copy_from_slice(&shade);
            }
        }
        let size = self.zone_size;
        let zones: Vec<(String, (f64, f64))> = self.zones.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for (name, (x, y)) in zones {
            canvas.rect(x - size / 2.0, y - size / 2.0, size, size, zone_colour(&name));
            match zone_item(&name) {
                Some(item) => {
                    // A small pile of the zone's items.
                    for k in 0..3 {
                        let dx = (k as f64 - 1.0) * size * 0.22;
                        let dy = self.rng.range([-0.1, 0.1]) * size;
                        canvas.item(x + dx, y + dy, item, size * 0.6, false);
                    }
                }
                None if name == "press" => {
                    canvas.rect(x - size * 0.1, y - size * 0.45, size * 0.2, size * 0.9, [40, 40, 40])
                }
                None => canvas.rect(
                    x - size * 0.35,
                    y - size * 0.35,
                    size * 0.7,
                    size * 0.7,
                    [120, 140, 120],
                ),
            }
        }
        pixels
    }

    /// Renders one frame of RGB into `out` (width × height × 3).
    pub fn render(&mut self, pose: &Pose, out: &mut [u8]) {
        let (w, h, m) = (self.width, self.height, self.margin);
        let drift = (
            self.rng.range([-1.0, 1.0]) * self.drift * 0.3,
            self.rng.range([-1.0, 1.0]) * self.drift * 0.3,
        );
        let (dx, dy) = (
            (m as f64 + drift.0).round() as usize,
            (m as f64 + drift.1).round() as usize,
        );
        let bw = w + 2 * m;
        for y in 0..h {
            let src = ((y + dy) * bw + dx) * 3;
            out[y * w * 3..(y + 1) * w * 3].copy_from_slice(&self.bench[src..src + w * 3]);
        }
        let mut canvas = Canvas {
            pixels: out,
            width: w,
            height: h,
            offset: (m as f64 - dx as f64, m as f64 - dy as f64),
        };
        let size = self.zone_size;
        if let Some(&(px, py)) = self.zones.get("press") {
            // The press head over its zone, lower while pressed.
            canvas.rect(
                px - size * 0.35,
                py - size * 0.45 + pose.press * size * 0.35,
                size * 0.7,
                size * 0.25,
                [90, 90, 95],
            );
        }
        if let Some((x, y)) = pose.part_at {
            for (k, item) in pose.part_items.iter().enumerate() {
                canvas.item(x, y - k as f64 * size * 0.025, *item, size, true);
            }
        }
        if let Some((x, y)) = pose.distractor {
            canvas.rect(
                x - size * 0.5,
                y - size * 0.15,
                size,
                size * 0.3,
                self.distractor_colour,
            );
        }
        let (hx, hy) = pose.hand;
        let r = self.hand_radius;
        canvas.capsule(self.shoulder, (hx, hy + r * 0.6), r * 0.9, self.sleeve_colour);
        canvas.circle(hx, hy, r, self.hand_colour);
        if let Some(item) = pose.carrying {
            canvas.item(hx, hy - r * 0.3, item, size * 0.8, true);
        }
        // Light and sensor noise in one pass, in integers.
        let flicker = 1.0 + self.rng.range([-1.0, 1.0]) * self.flicker;
        let gains: Vec<i32> = self
            .column_gain
            .iter()
            .map(|g| (f64::from(*g) * flicker) as i32)
            .collect();
        let offset = self.rng.below(NOISE_LEN);
        for (y, row) in out.chunks_exact_mut(w * 3).enumerate() {
            let base = y * w * 3 + offset;
            for (x, (pixel, gain)) in row.chunks_exact_mut(3).zip(&gains).enumerate() {
                for (c, value) in pixel.iter_mut().enumerate() {
                    let noise = i32::from(self.noise[(base + x * 3 + c) & (NOISE_LEN - 1)]);
                    *value = (((i32::from(*value) * gain) >> 8) + noise).clamp(0, 255) as u8;
                }
            }
        }
    }

    /// Where the hand is and what it holds at `frame`, from the plan.
    pub fn pose(&self, plan: &Plan, segment_index: usize, frame: u64, placed: &[Item]) -> Pose {
        let segment = &plan.segments[segment_index];
        let u = (frame - segment.start) as f64 / (segment.end - segment.start).max(1) as f64;
        let rest = (self.shoulder.0, self.shoulder.1 - 0.3 * self.height as f64);
        let part = self.part;
        let zone = |name: &str| self.zones.get(name).copied().unwrap_or(part);
        let mut pose = Pose {
            hand: rest,
            carrying: None,
            part_items: placed.to_vec(),
            part_at: (!placed.is_empty()).then_some(part),
            press: 0.0,
            distractor: None,
        };
        if segment.distractor {
            let w = self.width as f64;
            pose.distractor = Some((-0.1 * w + 1.2 * w * u, self.height as f64 * 0.08));
        }
        let label = segment.label.as_str();
        if label == IDLE {
            let wobble = (frame as f64 * 0.15).sin() * self.hand_radius * 0.3;
            pose.hand = (rest.0 + wobble, rest.1);
            return pose;
        }
        let route: Vec<(f64, f64)> = match label {
            "press_down" => vec![rest, zone("press"), zone("press"), rest],
            "complete_part" => vec![rest, part, zone("completed"), rest],
            _ if picks(label).is_empty() => vec![rest, part, rest],
            _ => {
                let mut r = vec![rest];
                r.extend(picks(label).iter().map(|(z, _)| zone(z)));
                r.extend([part, rest]);
                r
            }
        };
        pose.hand = along(&route, u);
        let legs = (route.len() - 1) as f64;
        let leg = ((u * legs).floor() as usize).min(route.len() - 2);
        match label {
            "press_down" => {
                if leg == 1 {
                    let v = u * legs - 1.0;
                    pose.press = (v * std::f64::consts::PI * 2.0).sin().abs();
                    pose.hand.1 += pose.press * self.zone_size * 0.3;
                }
            }
            "complete_part" => {
                if leg == 1 {
                    pose.part_at = Some(pose.hand);
                } else if leg == 2 {
                    pose.part_at = None;
                }
            }
            _ => {
                let items = picks(label);
                // Carried from the first pick to the part; placed once the hand is there.
                if leg >= 1 && leg <= items.len() {
                    pose.carrying = items.get(leg - 1).map(|(_, item)| *item);
                }
                if leg > items.len() {
                    pose.part_items.extend(items.iter().map(|(_, item)| *item));
                    pose.part_at = Some(part);
                }
            }
        }
        pose
    }
}

/// Renders a plan's frames in order.
pub struct Frames<'p> {
    plan: &'p Plan,
    scene: Scene,
    placed: Vec<Item>,
    segment: usize,
    next: u64,
}

impl<'p> Frames<'p> {
    pub fn new(plan: &'p Plan, variation: &Variation, width: usize, height: usize, seed: u64) -> Self {
        Self {
            plan,
            scene: Scene::new(variation, width, height, seed),
            placed: Vec::new(),
            segment: 0,
            next: 0,
        }
    }

    /// Renders the next frame into `out` (width × height × 3); false once all are done.
    pub fn next_into(&mut self, out: &mut [u8]) -> bool {
        if self.next >= self.plan.frames {
            return false;
        }
        let segment = segment_of(&self.plan.segments, self.next, self.segment);
        if segment != self.segment {
            place(&self.plan.segments[self.segment].label, &mut self.placed);
            self.segment = segment;
        }
        let pose = self.scene.pose(self.plan, segment, self.next, &self.placed);
        self.scene.render(&pose, out);
        self.next += 1;
        true
    }
}

/// Items a finished step leaves on the part; `complete_part` takes it away.
pub fn place(label: &str, placed: &mut Vec<Item>) {
    if label == "complete_part" {
        placed.clear();
    } else {
        placed.extend(picks(label).iter().map(|(_, item)| *item));
    }
}

/// A point along a route of equal-time legs, eased at each waypoint.
fn along(route: &[(f64, f64)], u: f64) -> (f64, f64) {
    let legs = (route.len() - 1) as f64;
    let x = (u.clamp(0.0, 1.0) * legs).min(legs - 1e-9);
    let leg = x.floor() as usize;
    let t = x - leg as f64;
    let t = t * t * (3.0 - 2.0 * t);
    let (a, b) = (route[leg], route[leg + 1]);
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
}

/// The segment each frame belongs to, walking forward.
pub fn segment_of(segments: &[Segment], frame: u64, hint: usize) -> usize {
    let mut i = hint;
    while i + 1 < segments.len() && segments[i].end <= frame {
        i += 1;
    }
    i
}

/// A drawing surface; every shape touches only its bounding box.
struct Canvas<'a> {
    pixels: &'a mut [u8],
    width: usize,
    height: usize,
    /// Added to shape coordinates (camera shift within the margin).
    offset: (f64, f64),
}

impl Canvas<'_> {
    fn bbox(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> Option<(usize, usize, usize, usize)> {
        let (ox, oy) = self.offset;
        let (x0, x1) = ((x0 + ox).floor().max(0.0), (x1 + ox).ceil().min(self.width as f64));
        let (y0, y1) = ((y0 + oy).floor().max(0.0), (y1 + oy).ceil().min(self.height as f64));
        (x0 < x1 && y0 < y1).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }

    fn put(&mut self, x: usize, y: usize, colour: Rgb) {
        let i = (y * self.width + x) * 3;
        self.pixels[i..i + 3].copy_from_slice(&colour);
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, colour: Rgb) {
        if let Some((x0, y0, x1, y1)) = self.bbox(x, y, x + w, y + h) {
            for py in y0..y1 {
                for px in x0..x1 {
                    self.put(px, py, colour);
                }
            }
        }
    }

    /// A disc, or a ring when `inner > 0`.
    fn disc(&mut self, cx: f64, cy: f64, r: f64, inner: f64, colour: Rgb) {
        let Some((x0, y0, x1, y1)) = self.bbox(cx - r, cy - r, cx + r, cy + r) else {
            return;
        };
        let (ox, oy) = self.offset;
        let (r2, i2) = (r * r, inner * inner);
        for py in y0..y1 {
            let dy = py as f64 + 0.5 - (cy + oy);
            for px in x0..x1 {
                let dx = px as f64 + 0.5 - (cx + ox);
                let d2 = dx * dx + dy * dy;
                if d2 <= r2 && d2 >= i2 {
                    self.put(px, py, colour);
                }
            }
        }
    }

    fn circle(&mut self, cx: f64, cy: f64, r: f64, colour: Rgb) {
        self.disc(cx, cy, r, 0.0, colour);
    }

    fn item(&mut self, cx: f64, cy: f64, item: Item, zone_size: f64, outlined: bool) {
        let (share, hole) = item.shape();
        let r = share * zone_size;
        if outlined {
            self.disc(cx, cy, r + 1.5, 0.0, [30, 30, 30]);
        }
        self.disc(cx, cy, r, if hole { r * 0.45 } else { 0.0 }, item.colour());
        if item == Item::GreasedDisk {
            // A highlight: grease shines.
            self.disc(cx - r * 0.3, cy - r * 0.3, r * 0.2, 0.0, [150, 120, 80]);
        }
    }

    /// A thick segment with round ends (the arm).
    fn capsule(&mut self, a: (f64, f64), b: (f64, f64), r: f64, colour: Rgb) {
        let Some((x0, y0, x1, y1)) = self.bbox(a.0.min(b.0) - r, a.1.min(b.1) - r, a.0.max(b.0) + r, a.1.max(b.1) + r)
        else {
            return;
        };
        let (ox, oy) = self.offset;
        let (vx, vy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (vx * vx + vy * vy).max(1e-9);
        for py in y0..y1 {
            let y = py as f64 + 0.5 - oy;
            for px in x0..x1 {
                let x = px as f64 + 0.5 - ox;
                let t = (((x - a.0) * vx + (y - a.1) * vy) / len2).clamp(0.0, 1.0);
                let (dx, dy) = (x - (a.0 + t * vx), y - (a.1 + t * vy));
                if dx * dx + dy * dy <= r * r {
                    self.put(px, py, colour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;
    use actrec_core::sequence::Definition;

    const SEQUENCE: &str = include_str!("../../../config/sequences/gear-housing.toml");
    const VARIATION: &str = include_str!("../../../config/synth/default.toml");

    fn setup() -> (Plan, Variation) {
        let def = Definition::parse("seq.toml", SEQUENCE, None).expect("sequence");
        let var = Variation::parse("default.toml", VARIATION).expect("variation");
        (plan(&def, &var, 5, 1, 30), var)
    }

    fn render_all(seed: u64, frames: u64) -> Vec<u8> {
        let (plan, var) = setup();
        let mut renderer = Frames::new(&plan, &var, 160, 96, seed);
        let mut frame = vec![0u8; 160 * 96 * 3];
        let mut out = Vec::new();
        for _ in 0..frames {
            assert!(renderer.next_into(&mut frame));
            out.extend_from_slice(&frame);
        }
        out
    }

    #[test]
    fn a_seed_renders_the_same_frames() {
        assert_eq!(render_all(3, 40), render_all(3, 40));
        assert_ne!(render_all(3, 40), render_all(4, 40));
    }

    #[test]
    fn the_hand_picks_from_the_zone_and_carries_to_the_part() {
        let (plan, var) = setup();
        let scene = Scene::new(&var, 320, 180, 1);
        let (index, segment) = plan
            .segments
            .iter()
            .enumerate()
            .find(|(_, s)| s.label == "greased_disk")
            .expect("a greased disk step");
        let at = |u: f64| segment.start + ((segment.end - segment.start) as f64 * u) as u64;
        let picking = scene.pose(&plan, index, at(0.34), &[]);
        let zone = scene.zones["greased_disk"];
        assert!(
            (picking.hand.0 - zone.0).abs() < 15.0 && (picking.hand.1 - zone.1).abs() < 15.0,
            "{picking:?} {zone:?}"
        );
        let carrying = scene.pose(&plan, index, at(0.5), &[Item::Base]);
        assert_eq!(carrying.carrying, Some(Item::GreasedDisk));
        let placed = scene.pose(&plan, index, at(0.8), &[Item::Base]);
        assert_eq!(placed.part_items, vec![Item::Base, Item::GreasedDisk]);
        let idle_index = plan.segments.iter().position(|s| s.label == IDLE).expect("idle");
        assert_eq!(
            scene
                .pose(&plan, idle_index, plan.segments[idle_index].start, &[])
                .carrying,
            None
        );
    }
}
