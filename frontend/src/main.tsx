import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { markAriaStylesPresent } from './ariaStyles';
import { tokenStore } from './auth/tokenStore';
import './styles/base.css';
import './app/app.css';
import './app/desk.css';

markAriaStylesPresent();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App tokens={tokenStore} />
  </StrictMode>,
);
