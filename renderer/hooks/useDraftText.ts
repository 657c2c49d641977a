import { useEffect, useState } from 'react';

/** A text field's draft over a committed value (a name, a repeat count): what the field shows and says. */
export interface DraftText {
  text: string;
  /** Why the draft cannot be committed; null while it is valid. */
  error: string | null;
  /** The user typed `t`: show it, check it, and commit it at once when it is valid. */
  change: (t: string) => void;
  /** Drops an invalid draft and shows the committed value again (on blur: a bad name is not left standing). */
  revert: () => void;
}

/**
 * The draft behind an inspector field that commits every valid keystroke (the layer name, a group's name
 * and Repeat). A new committed value (undo, an edit elsewhere) replaces the draft and its error.
 */
export function useDraftText(committed: string, check: (t: string) => string | null, commit: (t: string) => void): DraftText {
  const [text, setText] = useState(committed);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(committed);
    setError(null);
  }, [committed]);
  return {
    text,
    error,
    change: (t) => {
      setText(t);
      const problem = check(t);
      setError(problem);
      if (!problem) commit(t);
    },
    revert: () => {
      if (error) {
        setText(committed);
        setError(null);
      }
    },
  };
}
