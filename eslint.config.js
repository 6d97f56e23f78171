// ESLint flat config for the web page's JavaScript (browser ES modules, no build step).
// Run by `make lint` and `make test` (the Makefile installs eslint from package-lock.json).
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    files: ["src/infercast/interfaces/web/static/js/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
  },
];
