print("bench-hls")
