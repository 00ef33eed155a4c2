/**
 * The trading-account picker in the top bar, for users with more than one
 * account (nothing is shown otherwise). A labelled native select: Tab reaches
 * it, the arrow keys change it, screen readers announce it; a polite status
 * confirms which account the screen now shows.
 */
import { useId, useState, type ReactElement } from "react";

export interface AccountPickerProps {
  readonly accountIds: readonly number[];
  readonly accountId: number | null;
  readonly onSelect: (accountId: number) => void;
}

export function AccountPicker(props: AccountPickerProps): ReactElement | null {
  const id = useId();
  const [announced, setAnnounced] = useState("");
  if (props.accountIds.length < 2) return null;
  return (
    <span className="account-picker">
      <label htmlFor={`${id}-account`}>Trading account</label>
      <select
        id={`${id}-account`}
        name="account"
        value={props.accountId === null ? "" : String(props.accountId)}
        onChange={(event) => {
          const next = Number(event.target.value);
          if (!props.accountIds.includes(next) || next === props.accountId) return;
          props.onSelect(next);
          setAnnounced(`Now trading and showing account ${String(next)}.`);
        }}
      >
        {props.accountIds.map((accountId) => (
          <option key={accountId} value={String(accountId)}>
            {String(accountId)}
          </option>
        ))}
      </select>
      <span className="visually-hidden" role="status" aria-live="polite">
        {announced}
      </span>
    </span>
  );
}
