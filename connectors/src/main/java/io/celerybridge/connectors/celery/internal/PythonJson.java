package io.celerybridge.connectors.celery.internal;

import org.apache.flink.annotation.Internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes JSON byte for byte as Python's {@code json.dumps} does with its defaults, which is what
 * kombu and Celery emit: {@code ", "} and {@code ": "} separators, every non-ASCII character
 * escaped as a lowercase {@code \\uXXXX} (so the envelope is pure ASCII and a lone surrogate can
 * never make invalid UTF-8).
 */
@Internal
public final class PythonJson {

    // Non-ASCII goes through PythonEscapes, not ESCAPE_NON_ASCII (which writes uppercase hex).
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final PythonEscapes ESCAPES = new PythonEscapes();
    // Stateless, so one serves every generator (Jackson would otherwise copy it per call).
    private static final Separators SEPARATORS = new Separators();

    private PythonJson() {}

    public static byte[] write(JsonNode node) {
        return write(node, 256);
    }

    /** As {@link #write(JsonNode)}, into a buffer of about {@code sizeHint} bytes to begin with. */
    public static byte[] write(JsonNode node, int sizeHint) {
        return write(sizeHint, g -> writeTree(g, node));
    }

    /** What {@code content} writes to a generator set up as {@code json.dumps} writes. */
    public static byte[] write(int sizeHint, Content content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, sizeHint));
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.setPrettyPrinter(SEPARATORS);
            g.setCharacterEscapes(ESCAPES);
            content.writeTo(g);
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /**
     * Writes a parsed tree as Jackson's own node serializers would, without the serializer
     * provider an ObjectMapper sets up per call (a visible share of writing small trees).
     */
    public static void writeTree(JsonGenerator g, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT:
                g.writeStartObject();
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    g.writeFieldName(field.getKey());
                    writeTree(g, field.getValue());
                }
                g.writeEndObject();
                break;
            case ARRAY:
                g.writeStartArray();
                for (JsonNode item : node) {
                    writeTree(g, item);
                }
                g.writeEndArray();
                break;
            case STRING:
                g.writeString(node.textValue());
                break;
            case NUMBER:
                writeNumber(g, node);
                break;
            case BOOLEAN:
                g.writeBoolean(node.booleanValue());
                break;
            case NULL:
                g.writeNull();
                break;
            default:
                throw new IllegalArgumentException("not a JSON value parsed from text: " + node.getNodeType());
        }
    }

    private static void writeNumber(JsonGenerator g, JsonNode node) throws IOException {
        switch (node.numberType()) {
            case INT:
                g.writeNumber(node.intValue());
                break;
            case LONG:
                g.writeNumber(node.longValue());
                break;
            case BIG_INTEGER:
                g.writeNumber(node.bigIntegerValue());
                break;
            case FLOAT:
                g.writeNumber(node.floatValue());
                break;
            case DOUBLE:
                g.writeNumber(node.doubleValue());
                break;
            default:
                g.writeNumber(node.decimalValue());
        }
    }

    /** Writes one JSON document. */
    @FunctionalInterface
    public interface Content {
        void writeTo(JsonGenerator g) throws IOException;
    }

    /** Python's {@code json.dumps} separators, no indentation. */
    private static final class Separators implements PrettyPrinter {
        // Pre-encoded: the generator copies their bytes instead of re-encoding a String each time.
        private static final SerializableString ITEM = new SerializedString(", ");
        private static final SerializableString KEY_VALUE = new SerializedString(": ");

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
            g.writeRaw(ITEM);
        }

        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(KEY_VALUE);
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
            g.writeRaw(ITEM);
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
