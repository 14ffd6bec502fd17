package io.celerybridge.connectors.celery.internal;

import org.apache.flink.annotation.Internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Writes JSON byte for byte as Python's {@code json.dumps} does with its defaults, which is what
 * kombu and Celery emit: {@code ", "} and {@code ": "} separators, every non-ASCII character
 * escaped as a lowercase {@code \\uXXXX} (so the envelope is pure ASCII and a lone surrogate can
 * never make invalid UTF-8).
 */
@Internal
public final class PythonJson {

    // Non-ASCII goes through PythonEscapes, not ESCAPE_NON_ASCII (which writes uppercase hex).
    private static final ObjectMapper MAPPER = JsonMapper.builder().build();
    private static final PythonEscapes ESCAPES = new PythonEscapes();

    private PythonJson() {}

    public static byte[] write(JsonNode node) {
        return write(node, 256);
    }

    /** As {@link #write(JsonNode)}, into a buffer of about {@code sizeHint} bytes to begin with. */
    public static byte[] write(JsonNode node, int sizeHint) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, sizeHint));
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            g.setPrettyPrinter(new Separators());
            g.setCharacterEscapes(ESCAPES);
            MAPPER.writeTree(g, node);
        } catch (IOException e) {
            throw new IllegalStateException("writing a JSON tree to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /** Python's {@code json.dumps} separators, no indentation. */
    private static final class Separators implements PrettyPrinter {
        @Override
        public void writeRootValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(' ');
        }

        @Override
        public void writeStartObject(JsonGenerator g) throws IOException {
            g.writeRaw('{');
        }

        @Override
        public void writeEndObject(JsonGenerator g, int nrOfEntries) throws IOException {
            g.writeRaw('}');
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeStartArray(JsonGenerator g) throws IOException {
            g.writeRaw('[');
        }

        @Override
        public void writeEndArray(JsonGenerator g, int nrOfValues) throws IOException {
            g.writeRaw(']');
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void beforeArrayValues(JsonGenerator g) {}

        @Override
        public void beforeObjectEntries(JsonGenerator g) {}
    }

    /** Lowercase hex in {@code \\u} escapes, as Python writes them (Jackson writes uppercase). */
    private static final class PythonEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] codes;

        PythonEscapes() {
            codes = standardAsciiEscapesForJSON();
            for (int c = 0; c < 0x20; c++) {
                if (codes[c] == ESCAPE_STANDARD && c != '\n' && c != '\r' && c != '\t' && c != '\b' && c != '\f') {
                    codes[c] = ESCAPE_CUSTOM;
                }
            }
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return codes;
        }

        /** Called for the ASCII codes marked custom above and for every non-ASCII char. */
        @Override
        public SerializableString getEscapeSequence(int ch) {
            return new SerializedString(String.format("\\u%04x", ch));
        }
    }
}
