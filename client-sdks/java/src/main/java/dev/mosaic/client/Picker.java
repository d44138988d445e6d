package dev.mosaic.client;

import java.util.List;

/** Chooses one instance among candidates that may all take the call. */
interface Picker {
    /** One of {@code candidates} (never empty; every weight is positive). */
    Backend pick(List<Backend> candidates);
}
