/**
 * One table for every grid of the dashboard: each view states its columns (a
 * heading, whether the values are numbers, how a row's cell reads) and the table
 * writes the markup — a header row of `<th scope="col">`, one `<tr>` per row, the
 * numeric columns right-aligned (class "num") — the same way everywhere.
 */
import type { HTMLAttributes, ReactElement, ReactNode, TableHTMLAttributes } from "react";
import { money, num } from "../format.ts";

export interface Column<Row> {
  readonly header: ReactNode;
  /** Right-aligned figures: class "num" on the heading and the cells. */
  readonly numeric?: boolean;
  /** The cell is the row's heading (`<th scope="row">`). */
  readonly rowHeader?: boolean;
  readonly cell: (row: Row) => ReactNode;
  /** More classes for the row's cell (after "num" when numeric). */
  readonly cellClass?: (row: Row) => string;
  /** The cell's data-testid. */
  readonly testId?: (row: Row) => string;
}

/** Data attributes and the like for a body row. */
export type RowAttributes = HTMLAttributes<HTMLTableRowElement> & { readonly [data: `data-${string}`]: string | number | undefined };

/** A row that shows one wide cell from column `from` on instead of its own cells (an inline form, a spacer). */
export interface Collapsed {
  readonly from: number;
  readonly content: ReactNode;
}

export interface DataTableProps<Row> extends Omit<TableHTMLAttributes<HTMLTableElement>, "children"> {
  readonly columns: ReadonlyArray<Column<Row>>;
  readonly rows: readonly Row[];
  readonly rowKey: (row: Row) => string | number;
  readonly rowProps?: (row: Row) => RowAttributes;
  readonly collapse?: (row: Row) => Collapsed | null;
  /** Shown across the whole table when there are no rows. */
  readonly empty?: ReactNode;
  /** The table's `<tfoot>` content. */
  readonly footer?: ReactNode;
}

function classes(...names: ReadonlyArray<string | undefined>): string | undefined {
  const joined = names.filter((name) => name !== undefined && name !== "").join(" ");
  return joined === "" ? undefined : joined;
}

function Cell<Row>(props: { column: Column<Row>; row: Row }): ReactElement {
  const { column, row } = props;
  const className = classes(column.numeric === true ? "num" : undefined, column.cellClass?.(row));
  const testId = column.testId?.(row);
  const content = column.cell(row);
  return column.rowHeader === true ? (
    <th scope="row" className={className} data-testid={testId}>
      {content}
    </th>
  ) : (
    <td className={className} data-testid={testId}>
      {content}
    </td>
  );
}

export function DataTable<Row>(props: DataTableProps<Row>): ReactElement {
  const { columns, rows, rowKey, rowProps, collapse, empty, footer, ...tableProps } = props;
  return (
    <table {...tableProps}>
      <thead>
        <tr>
          {columns.map((column, index) => (
            <th key={index} scope="col" className={column.numeric === true ? "num" : undefined}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && empty !== undefined && (
          <tr>
            <td colSpan={columns.length} className="muted">
              {empty}
            </td>
          </tr>
        )}
        {rows.map((row) => {
          const collapsed = collapse?.(row) ?? null;
          const shown = collapsed === null ? columns : columns.slice(0, collapsed.from);
          return (
            <tr key={rowKey(row)} {...rowProps?.(row)}>
              {shown.map((column, index) => (
                <Cell key={index} column={column} row={row} />
              ))}
              {collapsed !== null && <td colSpan={columns.length - collapsed.from}>{collapsed.content}</td>}
            </tr>
          );
        })}
      </tbody>
      {footer !== undefined && <tfoot>{footer}</tfoot>}
    </table>
  );
}

/** A right-aligned quantity or price column (digit grouping, "—" when there is none). */
export function figure<Row>(header: ReactNode, value: (row: Row) => string | null | undefined, more: Omit<Partial<Column<Row>>, "header" | "cell"> = {}): Column<Row> {
  return { header, numeric: true, cell: (row) => num(value(row)), ...more };
}

/** A right-aligned amount column in the row's currency. */
export function amount<Row>(header: ReactNode, value: (row: Row) => string | null | undefined, currency: (row: Row) => string, more: Omit<Partial<Column<Row>>, "header" | "cell"> = {}): Column<Row> {
  return { header, numeric: true, cell: (row) => money(value(row), currency(row)), ...more };
}
