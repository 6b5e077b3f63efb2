import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Element types a safetensors header may declare, with their size in bytes.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case u16 = "U16"
    case u32 = "U32"
    case u64 = "U64"
    case bool = "BOOL"
    case f8e4m3 = "F8_E4M3"
    case f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }
}

/// One tensor's header entry: dtype, shape and byte range inside the data section.
public struct SafetensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (after the header).
    public let byteRange: Range<Int>
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file: 8-byte little-endian header length, JSON header, raw tensor data.
///
/// Everything the header claims is checked against the file's real size before any of it is used, so a
/// hostile or truncated file yields a `CheckpointError`, never a crash or a file-sized allocation.
public final class SafetensorsFile {
    /// The header may not exceed this (the format's reference implementation uses the same bound).
    public static let maxHeaderLength: UInt64 = 100_000_000

    public let path: String
    public let entries: [String: SafetensorsEntry]
    /// `__metadata__` string pairs, if the header has them.
    public let metadata: [String: String]
    public let fileSize: Int
    private let base: UnsafeMutableRawPointer?
    private let dataStart: Int

    /// Maps `path` and validates its header and every entry's offsets.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError.unreadable(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        fileSize = size
        guard size >= 8 else {
            throw CheckpointError.truncated(path: path, reason: "\(size) bytes, fewer than the 8-byte header length")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw CheckpointError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = mapped
        do {
            let headerLength = mapped.loadUnaligned(as: UInt64.self).littleEndian
            guard headerLength <= Self.maxHeaderLength, headerLength <= UInt64(size - 8) else {
                throw CheckpointError.absurdHeaderLength(path: path, headerLength: headerLength, fileSize: size)
            }
            dataStart = 8 + Int(headerLength)
            let header = Data(bytesNoCopy: mapped + 8, count: Int(headerLength), deallocator: .none)
            (entries, metadata) = try Self.parseHeader(header, path: path, dataSize: size - dataStart)
        } catch {
            munmap(mapped, size)
            throw error
        }
    }

    deinit {
        if let base { munmap(base, fileSize) }
    }

    private static func parseHeader(_ header: Data, path: String, dataSize: Int) throws
        -> ([String: SafetensorsEntry], [String: String])
    {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw CheckpointError.malformedHeader(path: path, reason: "not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else {
            throw CheckpointError.malformedHeader(path: path, reason: "the header is not a JSON object")
        }
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in dictionary {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else {
                    throw CheckpointError.malformedHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (key, value) in pairs {
                    guard let string = value as? String else {
                        throw CheckpointError.malformedHeader(path: path, reason: "__metadata__[\(key)] is not a string")
                    }
                    metadata[key] = string
                }
                continue
            }
            entries[name] = try parseEntry(name: name, value, dataSize: dataSize)
        }
        return (entries, metadata)
    }

    private static func parseEntry(name: String, _ value: Any, dataSize: Int) throws -> SafetensorsEntry {
        guard let fields = value as? [String: Any] else {
            throw CheckpointError.badTensorEntry(tensor: name, reason: "entry is not a JSON object")
        }
        guard let dtypeName = fields["dtype"] as? String else {
            throw CheckpointError.badTensorEntry(tensor: name, reason: "missing string field 'dtype'")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw CheckpointError.badTensorEntry(tensor: name, reason: "unknown dtype '\(dtypeName)'")
        }
        // Offsets first: in a truncated file every entry past the end is reported the same way, whatever order
        // the JSON object's keys come in.
        guard let offsets = fields["data_offsets"] as? [Any], offsets.count == 2,
            let beginNumber = offsets[0] as? NSNumber, let endNumber = offsets[1] as? NSNumber,
            let begin = Int(exactly: beginNumber.doubleValue), let end = Int(exactly: endNumber.doubleValue)
        else {
            throw CheckpointError.badTensorEntry(tensor: name, reason: "'data_offsets' must be two integers [begin, end]")
        }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw CheckpointError.offsetOutOfRange(tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard let shapeValues = fields["shape"] as? [Any] else {
            throw CheckpointError.badTensorEntry(tensor: name, reason: "missing array field 'shape'")
        }
        var shape: [Int] = []
        var count = 1
        for dimension in shapeValues {
            guard let number = dimension as? NSNumber, let dim = Int(exactly: number.doubleValue), dim >= 0 else {
                throw CheckpointError.badTensorEntry(tensor: name, reason: "shape \(shapeValues) has a non-integer or negative dimension")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= end - begin else {
                throw CheckpointError.badTensorEntry(
                    tensor: name, reason: "shape \(shapeValues) has more elements than its \(end - begin) data bytes")
            }
            count = product
            shape.append(dim)
        }
        guard end - begin == count * dtype.size else {
            throw CheckpointError.badTensorEntry(
                tensor: name,
                reason: "\(end - begin) data bytes, but shape \(shape) of \(dtype.rawValue) needs \(count * dtype.size)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// The raw bytes of one entry (valid while this file is alive).
    public func bytes(of entry: SafetensorsEntry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base! + dataStart + entry.byteRange.lowerBound, count: entry.byteRange.count)
    }

    /// The whole file's bytes (valid while this file is alive).
    public var fileBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: fileSize) }

    /// Converts an F32/F16/BF16 tensor to f32; other dtypes are refused.
    public func floats(_ entry: SafetensorsEntry) throws -> [Float] {
        let raw = bytes(of: entry)
        let count = entry.elementCount
        switch entry.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                _ = memcpy(out.baseAddress!, raw.baseAddress!, count * 4)
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
                initialized = count
            }
        case .f16:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(Float16(bitPattern: bits))
                }
                initialized = count
            }
        case .bf16:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
                initialized = count
            }
        default:
            throw CheckpointError.unsupportedDType(tensor: entry.name, dtype: entry.dtype.rawValue)
        }
    }

    /// Tells the kernel this process no longer needs the mapped pages of `entry` (they stay in the page
    /// cache), so loading a large checkpoint does not keep the file and the folded weights resident at once.
    public func release(_ entry: SafetensorsEntry) {
        releaseRange(dataStart + entry.byteRange.lowerBound, count: entry.byteRange.count)
    }

    /// Drops a byte range of the mapping from this process's resident set (whole pages inside it only).
    func releaseRange(_ offset: Int, count: Int) {
        guard let base, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        let end = (offset + count) / page * page
        if end > start { madvise(base + start, end - start, MADV_DONTNEED) }
    }
}

/// Writes tensors in the safetensors layout (F32, plus I64 for buffers), header keys sorted, data in key order.
public struct SafetensorsWriter {
    private var tensors: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])] = []
    public var metadata: [String: String] = ["format": "pt"]

    public init() {}

    /// Adds an F32 tensor; `values.count` must equal the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
        tensors.append((name, .f32, shape, values.withUnsafeBytes { Array($0) }))
    }

    /// Adds an I64 tensor (e.g. BatchNorm's `num_batches_tracked`, a scalar of shape []).
    /// Replaces the values of a tensor added before (same count).
    public mutating func replace(_ name: String, values: [Float]) {
        guard let index = tensors.firstIndex(where: { $0.name == name }) else { preconditionFailure("no tensor \(name)") }
        precondition(tensors[index].dtype == .f32 && tensors[index].bytes.count == 4 * values.count, "\(name): wrong count")
        tensors[index].bytes = values.withUnsafeBytes { Array($0) }
    }

    public mutating func add(_ name: String, shape: [Int], integers: [Int64]) {
        precondition(shape.reduce(1, *) == integers.count, "\(name): \(integers.count) values for shape \(shape)")
        tensors.append((name, .i64, shape, integers.map(\.littleEndian).withUnsafeBytes { Array($0) }))
    }

    /// Serializes header and data into one buffer.
    public func serialized() throws -> Data {
        let ordered = tensors.sorted { $0.name < $1.name }
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for tensor in ordered {
            header[tensor.name] = [
                "dtype": tensor.dtype.rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.bytes.count],
            ]
            offset += tensor.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // The format pads the header with spaces to an 8-byte boundary so the data section is aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for tensor in ordered { out.append(contentsOf: tensor.bytes) }
        return out
    }
}
