package io.celerybridge.job;

import io.celerybridge.connectors.celery.CeleryTaskIds;
import io.celerybridge.udfs.decode.EventDecoder;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The Python helper users get for AsyncResult lookups (examples/celery-worker/celery_bridge_ids.py)
 * computes the task id the job gives each event: string, integer and escaped ids, and the message
 * key and payload hash fallbacks, run through the job's own decoder and {@link CeleryTaskIds}.
 */
class PythonTaskIdsITCase {

    @Test
    void thePythonHelperComputesTheJobsTaskIds() throws Exception {
        String[] payloads = {
            "{\"id\": \"order-1234\"}", "{\"id\": 42}", "{\"id\": \"42\"}", "{\"id\": \"~batch:x\"}", "{\"id\": \"Zoë 東京 🚀\"}",
            "{\"id\": 123456789012345678901234567890}", "{\"id\": -7}", "{\"id\": \"" + "x".repeat(5_000) + "\"}",
        };
        EventDecoder byId = new EventDecoder("/id", 1 << 20);
        EventDecoder byKey = new EventDecoder("/id", 1 << 20, 64, false, EventDecoder.IdFallback.MESSAGE_KEY);
        EventDecoder byHash = new EventDecoder("/id", 1 << 20, 64, false, EventDecoder.IdFallback.PAYLOAD_HASH);

        // Python reads the same payloads, one per line, as UTF-8 bytes: the last two have no id.
        String noId = "{\"n\": 1, \"text\": \"é\"}";
        List<String> expected = new ArrayList<>();
        StringBuilder lines = new StringBuilder();
        for (String p : payloads) {
            expected.add(CeleryTaskIds.forKey(byId.decode(p.getBytes(StandardCharsets.UTF_8), null, 0L).getId()));
            lines.append(p).append('\n');
        }
        expected.add(CeleryTaskIds.forKey(byKey.decode(noId.getBytes(StandardCharsets.UTF_8), "customer-7/order-9", 0L).getId()));
        expected.add(CeleryTaskIds.forKey(byHash.decode(noId.getBytes(StandardCharsets.UTF_8), null, 0L).getId()));
        lines.append(noId).append('\n');
        String script = String.join("\n",
                "import json, sys",
                "sys.path.insert(0, sys.argv[1])",
                "from celery_bridge_ids import task_id, task_id_for_message_key, task_id_for_payload",
                "raw = sys.stdin.buffer.read().split(b'\\n')",
                "for line in raw[:" + payloads.length + "]:",
                "    print(task_id(json.loads(line.decode('utf-8'))['id']))",
                "print(task_id_for_message_key('customer-7/order-9'))",
                "print(task_id_for_payload(raw[" + payloads.length + "]))",
                "");

        Path examples = Path.of("..", "examples", "celery-worker").toAbsolutePath().normalize();
        Process python;
        try {
            python = new ProcessBuilder("python3", "-c", script, examples.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            fail("python3 is needed to check the Python helper (install it with dev/install-packages.sh): " + e.getMessage());
            return;
        }
        try (var in = python.getOutputStream()) {
            in.write(lines.toString().getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(python.waitFor()).as("python3 exit status; output:\n%s", out).isZero();
        assertThat(out.lines().toList()).as("task ids by Python, in the order of the Java ones").isEqualTo(expected);
    }
}
