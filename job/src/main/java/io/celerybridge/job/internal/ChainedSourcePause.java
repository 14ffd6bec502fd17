package io.celerybridge.job.internal;

import io.celerybridge.connectors.source.SourcePause;
import io.celerybridge.udfs.runtime.InputPause;

import org.apache.flink.annotation.Internal;

/** The processing stage's input pause: the Pulsar source of the same task, when the stage is chained to it. */
@Internal
public final class ChainedSourcePause implements InputPause {
    private static final long serialVersionUID = 1L;

    @Override
    public Switch ofCurrentTask() {
        SourcePause source = SourcePause.ofCurrentThread();
        if (source == null) {
            return null;
        }
        return new Switch() {
            @Override
            public void pause() {
                source.pause();
            }

            @Override
            public void resume() {
                source.resume();
            }
        };
    }
}
