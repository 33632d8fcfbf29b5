#include "server/engine/documents/decompose/image_codec.h"

#include <jpeglib.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

namespace hartonomous::engine {
namespace {

// ---- PNG ----

struct PngReadState {
  std::string_view data;
  size_t at = 0;
  std::string error;
};

void PngError(png_structp png, png_const_charp msg) {
  auto* state = static_cast<PngReadState*>(png_get_error_ptr(png));
  if (state != nullptr) state->error = msg;
  png_longjmp(png, 1);
}
void PngWarning(png_structp, png_const_charp) {}

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* state = static_cast<PngReadState*>(png_get_io_ptr(png));
  if (state->data.size() - state->at < n) {
    png_error(png, "unexpected end of data (truncated file)");
  }
  std::memcpy(out, state->data.data() + state->at, n);
  state->at += n;
}

struct PngWriteState {
  std::string out;
  std::string error;
};

void PngWrite(png_structp png, png_bytep in, png_size_t n) {
  static_cast<PngWriteState*>(png_get_io_ptr(png))->out.append(reinterpret_cast<char*>(in), n);
}
void PngFlush(png_structp) {}
void PngWriteError(png_structp png, png_const_charp msg) {
  static_cast<PngWriteState*>(png_get_error_ptr(png))->error = msg;
  png_longjmp(png, 1);
}

// Everything touched after setjmp lives here (no automatic variables
// modified between setjmp and longjmp).
struct PngDecode {
  PngReadState state;
  png_structp png = nullptr;
  png_infop info = nullptr;
  Raster raster;
  std::vector<png_bytep> rows;
  std::string limit_error;
  ~PngDecode() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

bool RunPngDecode(PngDecode& d, uint64_t max_raster_bytes) {
  if (setjmp(png_jmpbuf(d.png))) return false;
  png_set_read_fn(d.png, &d.state, PngRead);
  png_set_user_limits(d.png, 0x7fffffff, 0x7fffffff);
  png_read_info(d.png, d.info);
  const png_uint_32 width = png_get_image_width(d.png, d.info);
  const png_uint_32 height = png_get_image_height(d.png, d.info);
  const int color = png_get_color_type(d.png, d.info);
  const int depth = png_get_bit_depth(d.png, d.info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d.png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(d.png);
  if (png_get_valid(d.png, d.info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(d.png);
  png_set_interlace_handling(d.png);
  png_read_update_info(d.png, d.info);
  d.raster.width = width;
  d.raster.height = height;
  d.raster.channels = png_get_channels(d.png, d.info);
  d.raster.bytes_per_sample = png_get_bit_depth(d.png, d.info) == 16 ? 2 : 1;
  const uint64_t row = uint64_t{width} * d.raster.channels * d.raster.bytes_per_sample;
  if (row != png_get_rowbytes(d.png, d.info) || row * height > max_raster_bytes) {
    d.limit_error = "content: PNG of " + std::to_string(width) + " x " + std::to_string(height) +
                    " pixels exceeds the decoded size limit of " +
                    std::to_string(max_raster_bytes) + " bytes";
    return false;
  }
  d.raster.pixels.resize(row * height);
  d.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) {
    d.rows[y] = reinterpret_cast<png_bytep>(d.raster.pixels.data() + row * y);
  }
  png_read_image(d.png, d.rows.data());
  png_read_end(d.png, nullptr);
  return true;
}

struct PngEncode {
  PngWriteState state;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::vector<png_bytep> rows;
  ~PngEncode() {
    if (png != nullptr) png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
  }
};

bool RunPngEncode(PngEncode& e, const Raster& r) {
  if (setjmp(png_jmpbuf(e.png))) return false;
  static const int kColor[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                               PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(e.png, &e.state, PngWrite, PngFlush);
  png_set_IHDR(e.png, e.info, r.width, r.height, r.bytes_per_sample == 2 ? 16 : 8,
               kColor[r.channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(e.png, e.info);
  const size_t row = size_t{r.width} * r.channels * r.bytes_per_sample;
  e.rows.resize(r.height);
  for (uint32_t y = 0; y < r.height; ++y) {
    e.rows[y] = reinterpret_cast<png_bytep>(const_cast<char*>(r.pixels.data() + row * y));
  }
  png_write_image(e.png, e.rows.data());
  png_write_end(e.png, nullptr);
  return true;
}

// ---- JPEG ----

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// Warnings (premature end of data, corrupt segments) fail the decode too:
// libjpeg would otherwise fill the missing part and carry on.
void JpegEmit(j_common_ptr cinfo, int level) {
  if (level < 0) JpegErrorExit(cinfo);
}

struct JpegDecode {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  Raster raster;
  std::string limit_error;
  bool created = false;
  ~JpegDecode() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

bool RunJpegDecode(JpegDecode& d, std::string_view data, uint64_t max_raster_bytes) {
  d.cinfo.err = jpeg_std_error(&d.err.mgr);
  d.err.mgr.error_exit = JpegErrorExit;
  d.err.mgr.emit_message = JpegEmit;
  if (setjmp(d.err.jump)) return false;
  jpeg_create_decompress(&d.cinfo);
  d.created = true;
  jpeg_mem_src(&d.cinfo, reinterpret_cast<const unsigned char*>(data.data()),
               static_cast<unsigned long>(data.size()));
  jpeg_read_header(&d.cinfo, TRUE);
  if (d.cinfo.num_components == 1) {
    d.cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (d.cinfo.num_components == 3) {
    d.cinfo.out_color_space = JCS_RGB;
  } else {
    d.limit_error = "content: JPEG with " + std::to_string(d.cinfo.num_components) +
                    " components is not supported (gray or YCbCr/RGB only)";
    return false;
  }
  const uint64_t bytes = uint64_t{d.cinfo.image_width} * d.cinfo.image_height *
                         static_cast<uint64_t>(d.cinfo.num_components);
  if (bytes > max_raster_bytes) {
    d.limit_error = "content: JPEG of " + std::to_string(d.cinfo.image_width) + " x " +
                    std::to_string(d.cinfo.image_height) +
                    " pixels exceeds the decoded size limit of " +
                    std::to_string(max_raster_bytes) + " bytes";
    return false;
  }
  jpeg_start_decompress(&d.cinfo);
  d.raster.width = d.cinfo.output_width;
  d.raster.height = d.cinfo.output_height;
  d.raster.channels = static_cast<uint32_t>(d.cinfo.output_components);
  d.raster.bytes_per_sample = 1;
  const size_t row = size_t{d.raster.width} * d.raster.channels;
  d.raster.pixels.resize(row * d.raster.height);
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    JSAMPROW rows[1] = {
        reinterpret_cast<JSAMPROW>(d.raster.pixels.data() + row * d.cinfo.output_scanline)};
    jpeg_read_scanlines(&d.cinfo, rows, 1);
  }
  jpeg_finish_decompress(&d.cinfo);
  return true;
}

struct JpegEncode {
  jpeg_compress_struct cinfo{};
  JpegError err{};
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  bool created = false;
  ~JpegEncode() {
    if (created) jpeg_destroy_compress(&cinfo);
    std::free(buffer);
  }
};

bool RunJpegEncode(JpegEncode& e, const Raster& r, int quality) {
  e.cinfo.err = jpeg_std_error(&e.err.mgr);
  e.err.mgr.error_exit = JpegErrorExit;
  if (setjmp(e.err.jump)) return false;
  jpeg_create_compress(&e.cinfo);
  e.created = true;
  jpeg_mem_dest(&e.cinfo, &e.buffer, &e.size);
  e.cinfo.image_width = r.width;
  e.cinfo.image_height = r.height;
  e.cinfo.input_components = static_cast<int>(r.channels);
  e.cinfo.in_color_space = r.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&e.cinfo);
  jpeg_set_quality(&e.cinfo, quality, TRUE);
  jpeg_start_compress(&e.cinfo, TRUE);
  const size_t row = size_t{r.width} * r.channels;
  while (e.cinfo.next_scanline < e.cinfo.image_height) {
    JSAMPROW rows[1] = {reinterpret_cast<JSAMPROW>(
        const_cast<char*>(r.pixels.data() + row * e.cinfo.next_scanline))};
    jpeg_write_scanlines(&e.cinfo, rows, 1);
  }
  jpeg_finish_compress(&e.cinfo);
  return true;
}

}  // namespace

Result<Raster> DecodePng(std::string_view data, uint64_t max_raster_bytes) {
  if (!LooksLikePng(data)) return Status::InvalidArgument("content: not a PNG (bad signature)");
  // The declared size, from IHDR (always the first chunk), is checked before
  // libpng reads any further.
  if (data.size() >= 26 && data.substr(12, 4) == "IHDR") {
    auto be32 = [&](size_t at) {
      const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
      return uint64_t{p[0]} << 24 | uint64_t{p[1]} << 16 | uint64_t{p[2]} << 8 | p[3];
    };
    const uint64_t width = be32(16), height = be32(20);
    const uint64_t bps = static_cast<unsigned char>(data[24]) == 16 ? 2 : 1;
    static const uint64_t kChannels[7] = {1, 0, 3, 4, 2, 0, 4};
    const auto color = static_cast<unsigned char>(data[25]);
    const uint64_t channels = color < 7 && kChannels[color] != 0 ? kChannels[color] : 4;
    // Each dimension is below 2^32, so checking it against 2^24 first keeps
    // the product from overflowing.
    if (width > 0xFFFFFF || height > 0xFFFFFF ||
        width * height * channels * bps > max_raster_bytes) {
      return Status::InvalidArgument("content: PNG of " + std::to_string(width) + " x " +
                                     std::to_string(height) +
                                     " pixels exceeds the decoded size limit of " +
                                     std::to_string(max_raster_bytes) + " bytes");
    }
  }
  PngDecode d;
  d.state.data = data;
  d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d.state, PngError, PngWarning);
  if (d.png == nullptr) return Status::Internal("libpng: cannot allocate a read struct");
  d.info = png_create_info_struct(d.png);
  if (d.info == nullptr) return Status::Internal("libpng: cannot allocate an info struct");
  if (!RunPngDecode(d, max_raster_bytes)) {
    if (!d.limit_error.empty()) return Status::InvalidArgument(d.limit_error);
    return Status::InvalidArgument("content: invalid or truncated PNG (" + d.state.error + ")");
  }
  return std::move(d.raster);
}

Result<Raster> DecodeJpeg(std::string_view data, uint64_t max_raster_bytes) {
  if (!LooksLikeJpeg(data)) return Status::InvalidArgument("content: not a JPEG (bad signature)");
  JpegDecode d;
  if (!RunJpegDecode(d, data, max_raster_bytes)) {
    if (!d.limit_error.empty()) return Status::InvalidArgument(d.limit_error);
    return Status::InvalidArgument(std::string("content: invalid or truncated JPEG (") +
                                   d.err.message + ")");
  }
  return std::move(d.raster);
}

Result<std::string> EncodePng(const Raster& r) {
  if (r.channels < 1 || r.channels > 4 || (r.bytes_per_sample != 1 && r.bytes_per_sample != 2) ||
      r.width == 0 || r.height == 0 ||
      r.pixels.size() != size_t{r.width} * r.height * r.channels * r.bytes_per_sample) {
    return Status::Internal("EncodePng: raster shape does not match its pixels");
  }
  PngEncode e;
  e.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e.state, PngWriteError, PngWarning);
  if (e.png == nullptr) return Status::Internal("libpng: cannot allocate a write struct");
  e.info = png_create_info_struct(e.png);
  if (e.info == nullptr) return Status::Internal("libpng: cannot allocate an info struct");
  if (!RunPngEncode(e, r)) return Status::Internal("libpng: encode failed: " + e.state.error);
  return std::move(e.state.out);
}

Result<std::string> EncodeJpeg(const Raster& r, int quality) {
  if ((r.channels != 1 && r.channels != 3) || r.bytes_per_sample != 1 ||
      r.pixels.size() != size_t{r.width} * r.height * r.channels) {
    return Status::InvalidArgument("raster: EncodeJpeg needs 8-bit gray or RGB");
  }
  JpegEncode e;
  if (!RunJpegEncode(e, r, quality)) {
    return Status::Internal(std::string("libjpeg: encode failed: ") + e.err.message);
  }
  return std::string(reinterpret_cast<char*>(e.buffer), e.size);
}

}  // namespace hartonomous::engine
