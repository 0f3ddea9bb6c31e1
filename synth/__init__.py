"""Synthetic camera scenes for tests, benchmarks and training data.

``structures`` draws the five structure classes at any build progress and light;
``background`` and ``actors`` make the rest of a village-edge camera view;
``scene`` renders a :class:`~synth.scene.Scenario` (hours of scene time
compressed into seconds of video) to frames or an H.264/HEVC file with its
ground truth; ``suite`` names the scenes the detector is tested on; ``dataset``
samples labelled still images for training the structure model.
"""
