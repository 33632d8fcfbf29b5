// A minimal HTTP/2 client over a plain TCP socket, for tests that send what
// no gRPC client library sends: a gRPC message header announcing more bytes
// than follow, or a connection closed in the middle of a call without an
// RST_STREAM. It speaks just enough HTTP/2 (RFC 9113) for one gRPC call per
// stream: the preface, SETTINGS and their ACK, HEADERS (HPACK literals, no
// Huffman coding), DATA; it reads the server's frames and decodes header
// blocks (RFC 7541) except Huffman-coded strings.
//
// Thread-safety: none; one thread owns a connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace hartonomous::testing {

class RawHttp2Connection {
 public:
  // What ended a stream, as the server said it.
  struct StreamEnd {
    bool ended = false;                         // trailers with END_STREAM or RST_STREAM
    bool reset = false;                         // RST_STREAM
    uint32_t reset_code = 0;                    // its error code
    bool goaway = false;                        // the connection ended instead
    std::map<std::string, std::string> fields;  // the decoded header fields
    // A field's value; "<absent>" when the server did not send it.
    std::string Field(const std::string& name) const {
      const auto it = fields.find(name);
      return it == fields.end() ? "<absent>" : it->second;
    }
  };

  // Connects to "HOST:PORT" (an IPv4 loopback address) and sends the
  // client preface and an empty SETTINGS frame. Throws std::runtime_error
  // when it cannot.
  explicit RawHttp2Connection(const std::string& address) : authority_(address) {
    const auto colon = address.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
      throw std::runtime_error("not an IPv4 address: " + address);
    }
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("cannot connect to " + address);
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SendAll("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    SendFrame(kSettings, 0, 0, "");
  }
  ~RawHttp2Connection() { Close(); }
  RawHttp2Connection(const RawHttp2Connection&) = delete;
  RawHttp2Connection& operator=(const RawHttp2Connection&) = delete;

  // Closes the socket at once: no RST_STREAM, no GOAWAY.
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Opens stream `stream` (odd, increasing) as a gRPC call of `path`
  // ("/package.Service/Method"), with "authorization: <authorization>"
  // when not empty.
  void StartCall(uint32_t stream, const std::string& path, const std::string& authorization = "") {
    std::string block;
    block += '\x83';  // :method POST (static index 3)
    block += '\x86';  // :scheme http (static index 6)
    Literal(&block, ":path", path);
    Literal(&block, ":authority", authority_);
    Literal(&block, "content-type", "application/grpc");
    Literal(&block, "te", "trailers");
    if (!authorization.empty()) Literal(&block, "authorization", authorization);
    SendFrame(kHeaders, kEndHeaders, stream, block);
  }

  // Sends bytes on the stream (gRPC frames, or any prefix of them).
  void SendData(uint32_t stream, const std::string& bytes, bool end_stream) {
    SendFrame(kData, end_stream ? kEndStream : 0, stream, bytes);
  }

  // Sends one DATA frame unless the socket's buffer is full for 2 s (the
  // server stopped reading) or the server closed the connection; false
  // then. Frames the server sent meanwhile are read and dropped (SETTINGS
  // and PING answered).
  bool TrySendData(uint32_t stream, const std::string& bytes) {
    std::string frame = FrameBytes(kData, 0, stream, bytes);
    size_t sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (sent < frame.size()) {
      if (!DrainIncoming()) return false;
      const ssize_t n =
          send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        Close();  // the server closed the connection
        return false;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{fd_, POLLOUT, 0};
      poll(&p, 1, 100);
    }
    return true;
  }

  // The gRPC length-prefixed frame header: uncompressed, `length` bytes.
  static std::string GrpcFrameHeader(uint32_t length) {
    std::string header(1, '\0');
    for (int shift = 24; shift >= 0; shift -= 8) header += static_cast<char>(length >> shift);
    return header;
  }

  // Reads frames (answering SETTINGS and PING) until the server ends
  // `stream` or the connection, or `timeout` passes (then ended is false).
  StreamEnd ReadUntilEnd(uint32_t stream, std::chrono::milliseconds timeout) {
    StreamEnd end;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!end.ended && !end.goaway) {
      uint8_t type = 0, flags = 0;
      uint32_t id = 0;
      std::string payload;
      if (!ReadFrame(deadline, &type, &flags, &id, &payload)) {
        end.goaway = fd_ < 0;
        break;
      }
      if (type == kSettings && !(flags & kAck)) SendFrame(kSettings, kAck, 0, "");
      if (type == kPing && !(flags & kAck)) SendFrame(kPing, kAck, 0, payload);
      if (type == kGoaway) end.goaway = true;
      // Every header block is decoded: they share the dynamic table.
      std::map<std::string, std::string> other_fields;
      if (type == kHeaders) {
        DecodeHeaderBlock(HeaderBlockOf(flags, payload),
                          id == stream ? &end.fields : &other_fields);
      }
      if (id != stream) continue;
      if (type == kRstStream && payload.size() >= 4) {
        end.ended = end.reset = true;
        end.reset_code = BigEndian(payload, 0, 4);
      }
      if (type == kHeaders && (flags & kEndStream)) end.ended = true;
    }
    return end;
  }

 private:
  static constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kPing = 6,
                           kGoaway = 7;
  static constexpr uint8_t kEndStream = 1, kAck = 1, kEndHeaders = 4, kPadded = 8, kPriority = 0x20;

  static uint32_t BigEndian(const std::string& bytes, size_t at, size_t n) {
    uint32_t value = 0;
    for (size_t i = 0; i < n; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
    return value;
  }

  // An HPACK integer with an n-bit prefix whose high bits are `first`.
  static void Integer(std::string* out, uint8_t first, int n, size_t value) {
    const size_t max = (size_t{1} << n) - 1;
    if (value < max) {
      *out += static_cast<char>(first | value);
      return;
    }
    *out += static_cast<char>(first | max);
    value -= max;
    while (value >= 128) {
      *out += static_cast<char>((value & 127) | 128);
      value >>= 7;
    }
    *out += static_cast<char>(value);
  }

  // A literal header field without indexing, new name, no Huffman coding.
  static void Literal(std::string* block, const std::string& name, const std::string& value) {
    *block += '\0';
    Integer(block, 0, 7, name.size());
    *block += name;
    Integer(block, 0, 7, value.size());
    *block += value;
  }

  static std::string HeaderBlockOf(uint8_t flags, const std::string& payload) {
    size_t begin = 0, end = payload.size();
    if (flags & kPadded) {
      end -= static_cast<uint8_t>(payload[0]);
      begin = 1;
    }
    if (flags & kPriority) begin += 5;
    return payload.substr(begin, end - begin);
  }

  // RFC 7541 decoding of the fields this client reads; a Huffman-coded
  // string decodes as "<huffman>".
  void DecodeHeaderBlock(const std::string& block, std::map<std::string, std::string>* fields) {
    static const char* const kStaticNames[] = {"",
                                               ":authority",
                                               ":method",
                                               ":method",
                                               ":path",
                                               ":path",
                                               ":scheme",
                                               ":scheme",
                                               ":status",
                                               ":status",
                                               ":status",
                                               ":status",
                                               ":status",
                                               ":status",
                                               ":status",
                                               "accept-charset",
                                               "accept-encoding",
                                               "accept-language",
                                               "accept-ranges",
                                               "accept",
                                               "access-control-allow-origin",
                                               "age",
                                               "allow",
                                               "authorization",
                                               "cache-control",
                                               "content-disposition",
                                               "content-encoding",
                                               "content-language",
                                               "content-length",
                                               "content-location",
                                               "content-range",
                                               "content-type",
                                               "cookie",
                                               "date",
                                               "etag",
                                               "expect",
                                               "expires",
                                               "from",
                                               "host",
                                               "if-match",
                                               "if-modified-since",
                                               "if-none-match",
                                               "if-range",
                                               "if-unmodified-since",
                                               "last-modified",
                                               "link",
                                               "location",
                                               "max-forwards",
                                               "proxy-authenticate",
                                               "proxy-authorization",
                                               "range",
                                               "referer",
                                               "refresh",
                                               "retry-after",
                                               "server",
                                               "set-cookie",
                                               "strict-transport-security",
                                               "transfer-encoding",
                                               "user-agent",
                                               "vary",
                                               "via",
                                               "www-authenticate"};
    static const char* const kStaticValues[] = {
        "",    "",    "GET", "POST", "/",   "/index.html", "http", "https",
        "200", "204", "206", "304",  "400", "404",         "500"};
    size_t at = 0;
    auto integer = [&](int n) {
      const size_t max = (size_t{1} << n) - 1;
      size_t value = static_cast<uint8_t>(block.at(at++)) & max;
      if (value < max) return value;
      for (int shift = 0;; shift += 7) {
        const uint8_t b = static_cast<uint8_t>(block.at(at++));
        value += size_t{b & 127u} << shift;
        if (!(b & 128)) return value;
      }
    };
    auto string = [&]() {
      const bool huffman = static_cast<uint8_t>(block.at(at)) & 128;
      const size_t n = integer(7);
      std::string s = block.substr(at, n);
      at += n;
      return huffman ? std::string("<huffman>") : s;
    };
    auto entry = [&](size_t index) -> std::pair<std::string, std::string> {
      if (index >= 1 && index <= 61) {
        return {kStaticNames[index], index < 15 ? kStaticValues[index] : ""};
      }
      return dynamic_.at(index - 62);
    };
    while (at < block.size()) {
      const uint8_t b = static_cast<uint8_t>(block[at]);
      std::pair<std::string, std::string> field;
      if (b & 0x80) {  // indexed
        field = entry(integer(7));
      } else if ((b & 0xe0) == 0x20) {  // dynamic table size update
        integer(5);
        continue;
      } else {
        const bool indexing = (b & 0xc0) == 0x40;
        const size_t index = integer(indexing ? 6 : 4);
        field.first = index == 0 ? string() : entry(index).first;
        field.second = string();
        if (indexing) dynamic_.insert(dynamic_.begin(), field);
      }
      (*fields)[field.first] = field.second;
    }
  }

  void SendAll(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send to the server failed: " + SendFailure());
      sent += static_cast<size_t>(n);
    }
  }

  // Why a send failed: errno, and the server's GOAWAY (error code and
  // debug data) when it sent one before closing.
  std::string SendFailure() {
    std::string why = std::strerror(errno);
    uint8_t type = 0, flags = 0;
    uint32_t id = 0;
    std::string payload;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (ReadFrame(deadline, &type, &flags, &id, &payload)) {
      if (type == kGoaway && payload.size() >= 8) {
        why += "; GOAWAY error code " + std::to_string(BigEndian(payload, 4, 4)) + " \"" +
               payload.substr(8) + "\"";
      }
    }
    return why;
  }

  // Reads the frames already received, answering SETTINGS and PING; false
  // when the connection is closed (by the server, or here because an
  // answer could not be sent: the server closed it after sending them).
  bool DrainIncoming() {
    uint8_t type = 0, flags = 0;
    uint32_t id = 0;
    std::string payload;
    while (fd_ >= 0) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0) return true;
      if (!ReadFrame(std::chrono::steady_clock::now() + std::chrono::seconds(5), &type, &flags, &id,
                     &payload))
        return fd_ >= 0;
      std::string answer;
      if (type == kSettings && !(flags & kAck)) answer = FrameBytes(kSettings, kAck, 0, "");
      if (type == kPing && !(flags & kAck)) answer = FrameBytes(kPing, kAck, 0, payload);
      if (answer.empty()) continue;
      // Not waiting for room: while a sender floods, the server may have
      // stopped reading, and an answer it never reads changes nothing.
      const ssize_t n = send(fd_, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        Close();
        return false;
      }
    }
    return false;
  }

  static std::string FrameBytes(uint8_t type, uint8_t flags, uint32_t stream,
                                const std::string& payload) {
    std::string frame;
    for (int shift = 16; shift >= 0; shift -= 8) {
      frame += static_cast<char>(payload.size() >> shift);
    }
    frame += static_cast<char>(type);
    frame += static_cast<char>(flags);
    for (int shift = 24; shift >= 0; shift -= 8) frame += static_cast<char>(stream >> shift);
    return frame + payload;
  }

  void SendFrame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
    SendAll(FrameBytes(type, flags, stream, payload));
  }

  // False at the deadline or when the server closed the connection (then
  // the socket is closed).
  bool ReadExactly(std::chrono::steady_clock::time_point deadline, size_t n, std::string* out) {
    out->clear();
    while (out->size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[16384];
      const ssize_t got = recv(fd_, buffer, std::min(sizeof buffer, n - out->size()), 0);
      if (got <= 0) {
        Close();
        return false;
      }
      out->append(buffer, static_cast<size_t>(got));
    }
    return true;
  }

  bool ReadFrame(std::chrono::steady_clock::time_point deadline, uint8_t* type, uint8_t* flags,
                 uint32_t* stream, std::string* payload) {
    std::string header;
    if (fd_ < 0 || !ReadExactly(deadline, 9, &header)) return false;
    *type = static_cast<uint8_t>(header[3]);
    *flags = static_cast<uint8_t>(header[4]);
    *stream = BigEndian(header, 5, 4) & 0x7fffffffu;
    return ReadExactly(deadline, BigEndian(header, 0, 3), payload);
  }

  std::string authority_;
  int fd_ = -1;
  std::vector<std::pair<std::string, std::string>> dynamic_;  // newest first
};

}  // namespace hartonomous::testing
