#!/usr/bin/env bash
# The main job on the embedded default: a simulated camera watching a village yard where a
# steel-roof shed goes up. Sets everything up, makes the scene, serves it as an RTSP camera,
# takes a frame through the stream layer, draws the zones, then runs the detector over the
# footage and prints what it confirmed, with its evidence folder.
# Everything lands in demo-out/ (override with DEMO_OUT=dir).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

out=${DEMO_OUT:-demo-out}
scene=${DEMO_SCENE:-zone_day}
sw=.venv/bin/sitewatch
rm -rf "$out"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*"; }

step "1. a synthetic camera scene ($scene): hours of a village yard compressed into seconds"
$sw synth scene "$scene" -o "$out/camera.mp4" --truth "$out/truth.json" --config-out "$out/site.yaml"
$sw config check "$out/site.yaml"
speed=$(sed -n 's/.*replay with --speed \([0-9.]*\).*/\1/p' "$out/site.yaml" | head -n1)

step "2. the scene served as a live RTSP camera (GStreamer), one frame read through streams/"
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$sw simulate "$out/camera.mp4" --port "$port" >"$out/simulate.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true; wait $sim 2>/dev/null || true' EXIT
url="rtsp://127.0.0.1:$port/cam0"
for _ in $(seq 50); do grep -q "$url" "$out/simulate.log" 2>/dev/null && break; sleep 0.2; done
$sw snapshot "$url" -o "$out/live-frame.jpg"
$sw clip "$url" --seconds 3 -o "$out/live-clip.mp4"
kill $sim 2>/dev/null || true
wait $sim 2>/dev/null || true
trap - EXIT

step "3. the camera's zones drawn over that frame"
$sw zones preview --config "$out/site.yaml" --camera cam1 --image "$out/live-frame.jpg" -o "$out/zones.png"

step "4. the detector over the whole footage (stream time = video time x $speed)"
$sw replay "$out/camera.mp4" --config "$out/site.yaml" --camera cam1 --speed "$speed" \
  --events-out "$out/events.jsonl" --evidence-dir "$out/evidence" --no-progress

step "result"
n=$(wc -l <"$out/events.jsonl")
echo "$n event(s) in $out/events.jsonl; evidence folders:"
find "$out/evidence" -mindepth 2 -maxdepth 2 -type d | sed 's/^/  /'
echo "expected (ground truth): $(.venv/bin/python -c "import json,sys; t=json.load(open(sys.argv[1])); print(sum(s['expected_report'] for s in t['structures']))" "$out/truth.json") structure(s) to report"
echo "next: the case workflow, API and web pages (coming) turn these into cases."
