/** Tailwind 4 through its PostCSS plugin (no tailwind.config: the theme lives in app/globals.css). */
export default {
  plugins: { "@tailwindcss/postcss": {} },
};
