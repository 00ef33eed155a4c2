/** Start-up: read /config.json, then render the app. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { loadConfig } from "./config.ts";
import "./styles.css";

const root = document.getElementById("root");
if (root !== null) {
  void loadConfig().then((config) => {
    createRoot(root).render(
      <StrictMode>
        <App config={config} />
      </StrictMode>,
    );
  });
}
