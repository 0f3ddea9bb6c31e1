"""Camera sources (RTSP, file), reconnect, keyframe sampling, packet ring buffer, clips."""
