#ifndef VIDEOSTACK_CFFMPEG_SHIM_H
#define VIDEOSTACK_CFFMPEG_SHIM_H
#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

// Swift imports neither function-like macros nor casts in macros; these give it the values.

/// AVERROR(e): FFmpeg's negative form of a POSIX errno value.
static inline int vs_averror(int e) { return AVERROR(e); }
/// AVERROR(EAGAIN): "send more input / read output first".
static inline int vs_averror_eagain(void) { return AVERROR(EAGAIN); }
/// AVERROR_EOF: end of stream (FFERRTAG macro).
static inline int vs_averror_eof(void) { return AVERROR_EOF; }
/// AVERROR_INVALIDDATA.
static inline int vs_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/// AVERROR_EXIT: returned by I/O when the interrupt callback asked to stop.
static inline int vs_averror_exit(void) { return AVERROR_EXIT; }
/// AVERROR_DECODER_NOT_FOUND.
static inline int vs_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
/// AV_NOPTS_VALUE: "no timestamp" (a cast of an unsigned constant).
static inline int64_t vs_nopts_value(void) { return AV_NOPTS_VALUE; }
/// AV_TIME_BASE_Q: the microsecond time base of AVFormatContext durations (a compound literal).
static inline AVRational vs_time_base_q(void) { return AV_TIME_BASE_Q; }

/// av_log with a fixed arity: Swift cannot call C variadic functions.
static inline void vs_av_log(void *avcl, int level, const char *message) {
    av_log(avcl, level, "%s", message);
}

/// The type of av_log_set_callback's argument, spelled so that Swift sees one signature.
typedef void (*vs_log_callback)(void *avcl, int level, const char *fmt, va_list vl);
static inline void vs_set_log_callback(vs_log_callback callback) { av_log_set_callback(callback); }

/// The AVClass of an object av_log was called with, so a log sink can tell a decoder from a muxer.
static inline const char *vs_class_name(void *avcl) {
    if (!avcl) return NULL;
    AVClass *cls = *(AVClass **)avcl;
    return cls ? cls->class_name : NULL;
}

/// The name FFmpeg prints for an object in log prefixes ("h264", "mov,mp4,…"), via its AVClass.
static inline const char *vs_item_name(void *avcl) {
    if (!avcl) return NULL;
    AVClass *cls = *(AVClass **)avcl;
    if (!cls) return NULL;
    return cls->item_name ? cls->item_name(avcl) : cls->class_name;
}
/// The registered owner of a codec context's log lines: its `opaque`, which VideoStack sets to
/// the context itself and which FFmpeg copies into the per-thread copies of frame-threaded
/// decoders. NULL for any object that is not an AVCodecContext.
static inline void *vs_codec_context_owner(void *avcl) {
    if (!avcl || *(const AVClass **)avcl != avcodec_get_class()) return NULL;
    return ((AVCodecContext *)avcl)->opaque;
}
#endif
