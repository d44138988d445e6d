package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.thrift.TBase;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TMemoryBuffer;
import org.apache.thrift.transport.TMemoryInputTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden bytes: Mosaic's Java classes decode every encoding in tests/golden/corpus.json (written
 * by Apache's Python runtime) and re-encode it to the same bytes, in both protocols.
 *
 * <p>Fields keep presence, so the original encodings round-trip, absent default-requiredness
 * fields included; the {@code *_filled} encodings (those fields present as zero, as Apache's
 * Java writes them) round-trip as well.
 */
class GoldenCorpusTest {
    static Path corpus() {
        return ThriftTestServer.repoRoot().resolve("tests/golden/corpus.json");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> entries() throws Exception {
        String text = Files.readString(corpus(), StandardCharsets.UTF_8);
        return (List<Map<String, Object>>) Json.parse(text);
    }

    static Stream<Arguments> encodings() throws Exception {
        List<Arguments> out = new ArrayList<>();
        for (Map<String, Object> entry : entries()) {
            for (String key : List.of("binary", "compact", "binary_filled", "compact_filled")) {
                Object hex = entry.get(key);
                if (hex != null) {
                    out.add(Arguments.of(entry.get("name") + "/" + key, entry.get("type"), key.startsWith("compact"), hex));
                }
            }
        }
        return out.stream();
    }

    @Test
    void theCorpusIsThere() throws Exception {
        assertFalse(entries().isEmpty(), corpus() + " has entries");
    }

    static TProtocol protocol(boolean compact, org.apache.thrift.transport.TTransport transport) {
        return compact ? new TCompactProtocol(transport) : new TBinaryProtocol(transport);
    }

    @ParameterizedTest(name = "compact={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aContainerWithOtherElementTypesIsSkipped(boolean compact) throws Exception {
        thrift.test.ListTypeVersioningV2 newer = thrift.test.ListTypeVersioningV2.newBuilder()
            .setStrings(List.of("a", "b"))
            .setHello("hi")
            .build();
        TMemoryBuffer out = new TMemoryBuffer(64);
        newer.write(protocol(compact, out));
        thrift.test.ListTypeVersioningV1 older = new thrift.test.ListTypeVersioningV1();
        older.read(protocol(compact, new TMemoryInputTransport(new TConfiguration(), java.util.Arrays.copyOf(out.getArray(), out.length()))));
        assertFalse(older.isSetMyints(), "list<string> is not read as list<i32>");
        assertEquals("hi", older.getHello(), "the fields after it are read");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodings")
    void decodesAndReencodesToTheSameBytes(String name, String type, boolean compact, String hex) throws Exception {
        byte[] bytes = HexFormat.of().parseHex(hex);
        TBase<?, ?> value = (TBase<?, ?>) Class.forName("thrift.test." + type).getDeclaredConstructor().newInstance();
        TMemoryInputTransport in = new TMemoryInputTransport(new TConfiguration(), bytes);
        value.read(protocol(compact, in));
        assertEquals(0, in.getBytesRemainingInBuffer(), name + ": the whole encoding is read");
        TMemoryBuffer out = new TMemoryBuffer(bytes.length + 16);
        value.write(protocol(compact, out));
        byte[] written = java.util.Arrays.copyOf(out.getArray(), out.length());
        assertEquals(hex, HexFormat.of().formatHex(written), name + ": " + value + " re-encodes byte for byte");

        TBase<?, ?> copy = value.deepCopy();
        assertEquals(value, copy, name + ": a deep copy is equal");
        assertEquals(value.hashCode(), copy.hashCode(), name + ": and hashes the same");
    }
}
